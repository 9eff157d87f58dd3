//! Who may call: the TLS layer admits the trust domain's workloads, the HTTP layer only the
//! allow-listed SPIFFE IDs.

use workload_identity::workloads::{AGENT_A, WEB_APP};

use crate::support::{ALICE, TestEnv};

#[tokio::test]
async fn a_workload_other_than_the_web_app_gets_403_naming_it() {
    let env = TestEnv::start().await;
    let agent_a = env.client(AGENT_A);
    let token = env.token(&agent_a, ALICE);
    let reply = agent_a.chat(&token, "What is my balance?").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(reply.error(), "access_denied");
    assert_eq!(
        reply.body["error_description"],
        "spiffe://demo.test/ns/namespace-a/sa/agent-a may not call Agent B's chat API"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // Refused before anything else: no token was looked at, no IAM asked.
    assert_eq!(env.iam_relay.connections(), 0);
    env.stop().await;
}

#[tokio::test]
async fn the_allow_list_is_configurable() {
    let env = TestEnv::start_with(|config| {
        config.allowed_callers = vec![AGENT_A.spiffe_id(&config.trust_domain)];
    })
    .await;
    let agent_a = env.client(AGENT_A);
    let token = env.token(&agent_a, ALICE);
    assert_eq!(agent_a.chat(&token, "hello").await.status, 200);

    let web = env.client(WEB_APP);
    let token = env.token(&web, ALICE);
    let reply = web.chat(&token, "hello").await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.body["error_description"],
        "spiffe://demo.test/ns/namespace-a/sa/web-app may not call Agent B's chat API"
    );
    env.stop().await;
}
