//! The audit trail of step 17: a row for every decision, with verified facts only.

use tonic::Code;
use tonic::metadata::MetadataValue;
use wire::Intent;
use workload_identity::workloads::{AGENT_B, WEB_APP};

use crate::support::agent::{TestEnv, call, claims, request};
use crate::support::{ALICE, BOB};

#[tokio::test]
async fn an_allowed_call_is_recorded_with_the_caller_the_customer_and_the_token_ids() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-audit-0000001").await;
    let mut client = env.client(AGENT_B).await;
    call(
        &mut client,
        request(
            Intent::Orders,
            Some(&service_token),
            Some(&user_context),
            "chat-audit-0000001",
        ),
    )
    .await
    .unwrap();

    let rows = env.audit_rows().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row.decision, "allowed");
    assert_eq!(row.request_id.as_deref(), Some("chat-audit-0000001"));
    assert_eq!(row.peer.as_deref(), Some(env.pki.id(AGENT_B).as_str()));
    assert_eq!(
        row.service_token_jti.as_deref(),
        claims(&service_token)["jti"].as_str()
    );
    assert_eq!(row.subject.as_deref(), Some(ALICE));
    assert_eq!(
        row.txn_token_jti.as_deref(),
        claims(&user_context)["jti"].as_str()
    );
    // The transaction id is the request id Agent B gave the IAM.
    assert_eq!(row.txn.as_deref(), Some("chat-audit-0000001"));
    assert_eq!(
        row.reason,
        "service token bound to spiffe://demo.test/ns/namespace-b/sa/agent-b and user context for it verified"
    );
    // No token is ever written.
    for token in [&service_token, &user_context] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!format!("{row:?}").contains(signature));
    }
}

#[tokio::test]
async fn refusals_are_recorded_with_what_was_verified_before_the_refusal() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(BOB, "chat-audit-0000002").await;

    // Replayed over the web app's connection: the token verified, its binding did not.
    let mut web_app = env.client(WEB_APP).await;
    let status = call(
        &mut web_app,
        request(
            Intent::Balance,
            Some(&service_token),
            Some(&user_context),
            "chat-audit-0000002",
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // A garbage token: nothing in it is worth recording.
    let mut agent_b = env.client(AGENT_B).await;
    let status = call(
        &mut agent_b,
        request(
            Intent::Balance,
            Some("eyJhbGciOiJFUzI1NiJ9.e30.c2ln"),
            Some(&user_context),
            "chat-audit-0000003",
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // No correlation ids: refused before any token is read.
    let mut bare = request(
        Intent::Balance,
        Some(&service_token),
        Some(&user_context),
        "chat-audit-0000004",
    );
    bare.metadata_mut().remove("x-request-id");
    bare.metadata_mut()
        .insert("traceparent", MetadataValue::from_static("garbage"));
    let status = call(&mut agent_b, bare).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    let rows = env.audit_rows().await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|row| row.decision == "refused"));

    let replay = &rows[0];
    assert_eq!(replay.peer.as_deref(), Some(env.pki.id(WEB_APP).as_str()));
    assert_eq!(replay.request_id.as_deref(), Some("chat-audit-0000002"));
    assert_eq!(
        replay.service_token_jti.as_deref(),
        claims(&service_token)["jti"].as_str()
    );
    assert!(
        replay.reason.contains("bound to another certificate"),
        "{replay:?}"
    );
    // The user context was never examined: no customer is recorded.
    assert_eq!(replay.subject, None);

    let garbage = &rows[1];
    assert_eq!(garbage.peer.as_deref(), Some(env.pki.id(AGENT_B).as_str()));
    assert_eq!(garbage.service_token_jti, None);
    assert!(
        garbage.reason.starts_with("the service token was refused"),
        "{garbage:?}"
    );

    let uncorrelated = &rows[2];
    assert_eq!(uncorrelated.request_id, None);
    assert_eq!(uncorrelated.service_token_jti, None);
    assert!(
        uncorrelated.reason.contains("x-request-id"),
        "{uncorrelated:?}"
    );
}

#[tokio::test]
async fn a_user_context_for_another_workload_is_recorded_with_its_customer() {
    let env = TestEnv::start().await;
    env.iam
        .register_workload(
            WEB_APP,
            &[("agent-service-a", "cross-namespace:invoke")],
            true,
        )
        .await;
    let web_apps = env
        .iam
        .user_context(WEB_APP, ALICE, "chat-audit-0000005")
        .await;
    let (service_token, _) = env.agent_b_tokens(ALICE, "chat-audit-0000005").await;
    let mut agent_b = env.client(AGENT_B).await;
    call(
        &mut agent_b,
        request(
            Intent::Balance,
            Some(&service_token),
            Some(&web_apps),
            "chat-audit-0000005",
        ),
    )
    .await
    .unwrap_err();
    let rows = env.audit_rows().await;
    let row = rows.last().unwrap();
    assert_eq!(row.decision, "refused");
    assert_eq!(row.subject.as_deref(), Some(ALICE));
    assert_eq!(
        row.txn_token_jti.as_deref(),
        claims(&web_apps)["jti"].as_str()
    );
    assert!(
        row.reason
            .contains("issued to spiffe://demo.test/ns/namespace-a/sa/web-app")
    );
}
