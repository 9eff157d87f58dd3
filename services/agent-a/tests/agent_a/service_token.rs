//! Step 17, the caller: the service token, its claims, and its binding to this connection.

use tokens::{Algorithm, SigningKey, jws};
use tonic::{Code, Status};
use wire::Intent;
use workload_identity::workloads::{AGENT_B, WEB_APP, Workload};

use crate::support::ALICE;
use crate::support::agent::{CROSS_NS, SERVICE_A, TestEnv, call, claims, request};

/// Calls Agent A as `workload` with these credentials; the call must fail.
async fn refused(
    env: &TestEnv,
    workload: Workload,
    service_token: Option<&str>,
    user_context: &str,
) -> Status {
    let mut client = env.client(workload).await;
    call(
        &mut client,
        request(
            Intent::Balance,
            service_token,
            Some(user_context),
            "chat-refused-000001",
        ),
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn a_call_without_a_service_token_is_unauthenticated() {
    let env = TestEnv::start().await;
    let (_, user_context) = env.agent_b_tokens(ALICE, "chat-refused-000001").await;
    let status = refused(&env, AGENT_B, None, &user_context).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "a service token is required: authorization: Bearer <token>"
    );
}

#[tokio::test]
async fn agent_bs_service_token_over_another_workloads_connection_is_unauthenticated() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-refused-000001").await;
    // The web app holds an SVID of the trust domain, so its handshake succeeds; the token it
    // replays is bound to Agent B's certificate.
    let status = refused(&env, WEB_APP, Some(&service_token), &user_context).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "the service token is bound to another certificate: its cnf.x5t#S256 is not the \
         thumbprint of the client certificate on this connection"
    );
    // Agent B itself, same tokens, same agent: served.
    let mut client = env.client(AGENT_B).await;
    call(
        &mut client,
        request(
            Intent::Balance,
            Some(&service_token),
            Some(&user_context),
            "chat-refused-000001",
        ),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_service_token_for_another_audience_is_unauthenticated() {
    let env = TestEnv::start().await;
    env.iam
        .register_workload(
            AGENT_B,
            &[(SERVICE_A, CROSS_NS), ("agent-service-z", CROSS_NS)],
            true,
        )
        .await;
    let (_, user_context) = env.agent_b_tokens(ALICE, "chat-refused-000001").await;
    let other_audience = env
        .iam
        .service_token(AGENT_B, "agent-service-z", CROSS_NS)
        .await;
    let status = refused(&env, AGENT_B, Some(&other_audience), &user_context).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "the service token was refused: the audience does not include \"agent-service-a\""
    );
}

#[tokio::test]
async fn a_service_token_without_the_scope_is_permission_denied() {
    let env = TestEnv::start().await;
    env.iam
        .register_workload(
            AGENT_B,
            &[(SERVICE_A, "cross-namespace:invoke account:read")],
            true,
        )
        .await;
    let (_, user_context) = env.agent_b_tokens(ALICE, "chat-refused-000001").await;
    let narrow = env
        .iam
        .service_token(AGENT_B, SERVICE_A, "account:read")
        .await;
    let status = refused(&env, AGENT_B, Some(&narrow), &user_context).await;
    // RFC 6750 `insufficient_scope`: the caller is known, it lacks the permission.
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        status.message(),
        "the service token was refused: the token does not grant the scope \
         \"cross-namespace:invoke\""
    );
}

#[tokio::test]
async fn an_expired_service_token_is_unauthenticated() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-refused-000001").await;
    // The first instant the validator's 30 s of skew no longer covers. (The user context has
    // expired too, but the service token is checked first.)
    let exp = claims(&service_token)["exp"].as_i64().unwrap();
    env.clock.set(exp + 30);
    let status = refused(&env, AGENT_B, Some(&service_token), &user_context).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().starts_with(&format!(
            "the service token was refused: the token expired at {exp}"
        )),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_forged_service_token_is_unauthenticated() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-refused-000001").await;
    let header: serde_json::Value = serde_json::from_slice(
        &tokens::b64::decode(service_token.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    let kid = header["kid"].as_str().unwrap().to_owned();
    // Agent B's own claims, signed by a key the IAM never published, under the IAM's kid.
    let forger = SigningKey::generate(Algorithm::Es256).unwrap();
    let forger = SigningKey::from_pkcs8(Algorithm::Es256, forger.pkcs8_der(), Some(kid)).unwrap();
    let forged = jws::sign(&forger, "at+jwt", &claims(&service_token), None).unwrap();
    let status = refused(&env, AGENT_B, Some(&forged), &user_context).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "the service token was refused: the signature is not valid"
    );
}

#[tokio::test]
async fn a_user_context_is_not_a_service_token() {
    let env = TestEnv::start().await;
    let (_, user_context) = env.agent_b_tokens(ALICE, "chat-refused-000001").await;
    let status = refused(&env, AGENT_B, Some(&user_context), &user_context).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "the service token was refused: the token's `typ` is \"txntoken+jwt\", but \"at+jwt\" \
         is required"
    );
}
