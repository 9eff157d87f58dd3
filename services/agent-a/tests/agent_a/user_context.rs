//! Step 17, the customer: the user context must be the IAM's, unexpired, and minted for the
//! workload presenting it.

use tokens::{Algorithm, SigningKey, jws};
use tonic::{Code, Status};
use wire::Intent;
use workload_identity::workloads::{AGENT_B, WEB_APP};

use crate::support::ALICE;
use crate::support::agent::{CROSS_NS, SERVICE_A, TestEnv, call, claims, request};

async fn as_agent_b(env: &TestEnv, service_token: &str, user_context: Option<&str>) -> Status {
    let mut client = env.client(AGENT_B).await;
    call(
        &mut client,
        request(
            Intent::Balance,
            Some(service_token),
            user_context,
            "chat-context-000001",
        ),
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn a_call_without_a_user_context_is_unauthenticated() {
    let env = TestEnv::start().await;
    let (service_token, _) = env.agent_b_tokens(ALICE, "chat-context-000001").await;
    let status = as_agent_b(&env, &service_token, None).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "x-user-context is missing");
}

#[tokio::test]
async fn a_forged_user_context_is_unauthenticated() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-context-000001").await;
    let forger = SigningKey::generate(Algorithm::Es256).unwrap();
    let forged = jws::sign(&forger, "txntoken+jwt", &claims(&user_context), None).unwrap();
    let status = as_agent_b(&env, &service_token, Some(&forged)).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status
            .message()
            .starts_with("the transaction token in x-user-context was refused: no key with `kid`"),
        "{status:?}"
    );
}

#[tokio::test]
async fn an_expired_user_context_is_unauthenticated() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-context-000001").await;
    // The first instant the validator's 30 s of skew no longer covers; the service token
    // (5 minutes) is still valid.
    let exp = claims(&user_context)["exp"].as_i64().unwrap();
    env.clock.set(exp + 30);
    let status = as_agent_b(&env, &service_token, Some(&user_context)).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().starts_with(&format!(
            "the transaction token in x-user-context was refused: the token expired at {exp}"
        )),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_user_context_minted_for_another_workload_is_unauthenticated() {
    let env = TestEnv::start().await;
    // The web app may exchange customer tokens too (in this test), so the IAM mints it a
    // perfectly valid user context for alice; Agent B presents it as its own.
    env.iam
        .register_workload(WEB_APP, &[(SERVICE_A, CROSS_NS)], true)
        .await;
    let web_apps = env
        .iam
        .user_context(WEB_APP, ALICE, "chat-context-000001")
        .await;
    let (service_token, _) = env.agent_b_tokens(ALICE, "chat-context-000001").await;
    let status = as_agent_b(&env, &service_token, Some(&web_apps)).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "the user context was issued to spiffe://demo.test/ns/namespace-a/sa/web-app, but the \
         caller is spiffe://demo.test/ns/namespace-b/sa/agent-b"
    );
}
