//! Step 19, the customer: read only from a valid transaction token of the internal IAM.

use tokens::{Algorithm, SigningKey, b64, jws};
use tonic::Code;
use wire::Intent;
use workload_identity::workloads::{AGENT_A, AGENT_B};

use crate::support::ALICE;
use crate::support::a2::{TestA2, get, request};

/// The token's header and payload as JSON.
fn parts(token: &str) -> (serde_json::Value, serde_json::Value) {
    let mut segments = token.split('.');
    let header = b64::decode(segments.next().unwrap()).unwrap();
    let payload = b64::decode(segments.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&header).unwrap(),
        serde_json::from_slice(&payload).unwrap(),
    )
}

async fn refused(a2: &TestA2, user_context: Option<&str>) -> tonic::Status {
    let mut client = a2.client(AGENT_A).await;
    get(&mut client, request(Intent::Balance, user_context))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_call_without_a_user_context_is_unauthenticated() {
    let a2 = TestA2::start().await;
    let status = refused(&a2, None).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "x-user-context is missing");
}

#[tokio::test]
async fn a_user_context_signed_by_another_key_is_unauthenticated() {
    let a2 = TestA2::start().await;
    let real = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-request-0200")
        .await;
    let (header, claims) = parts(&real);
    let kid = header["kid"].as_str().unwrap().to_owned();

    // The same claims, signed by a key the IAM never published but named with the IAM's kid.
    let forger = SigningKey::generate(Algorithm::Es256).unwrap();
    let same_kid = SigningKey::from_pkcs8(Algorithm::Es256, forger.pkcs8_der(), Some(kid)).unwrap();
    let forged = jws::sign(&same_kid, "txntoken+jwt", &claims, None).unwrap();
    let status = refused(&a2, Some(&forged)).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status
            .message()
            .starts_with("the transaction token in x-user-context was refused: "),
        "{status:?}"
    );
    assert!(status.message().contains("signature"), "{status:?}");

    // Under its own kid: unknown to the IAM, even after the refetch that kid triggers.
    let forged = jws::sign(&forger, "txntoken+jwt", &claims, None).unwrap();
    let status = refused(&a2, Some(&forged)).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("no key with `kid`"), "{status:?}");
}

#[tokio::test]
async fn a_user_context_naming_someone_else_than_it_was_signed_for_is_unauthenticated() {
    let a2 = TestA2::start().await;
    let real = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-request-0201")
        .await;
    // Swap the payload for one naming bob, keeping alice's signature.
    let (_, mut claims) = parts(&real);
    claims["sub"] = "demo-user-bob".into();
    let mut segments: Vec<&str> = real.split('.').collect();
    let payload = b64::encode(serde_json::to_vec(&claims).unwrap());
    segments[1] = &payload;
    let status = refused(&a2, Some(&segments.join("."))).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("signature"), "{status:?}");
}

#[tokio::test]
async fn an_expired_user_context_is_unauthenticated() {
    let a2 = TestA2::start().await;
    let alice = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-request-0202")
        .await;
    let mut client = a2.client(AGENT_A).await;
    assert!(
        get(&mut client, request(Intent::Balance, Some(&alice)))
            .await
            .is_ok()
    );
    // One second before, the validator's 30 s of skew still covers it; from then on, not.
    let exp = parts(&alice).1["exp"].as_i64().unwrap();
    a2.clock.set(exp + 29);
    assert!(
        get(&mut client, request(Intent::Balance, Some(&alice)))
            .await
            .is_ok()
    );
    a2.clock.set(exp + 30);
    let status = get(&mut client, request(Intent::Balance, Some(&alice)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().contains("the token expired at"),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_service_token_is_not_a_user_context() {
    let a2 = TestA2::start().await;
    let service_token = a2
        .iam
        .service_token(AGENT_B, "agent-service-a", "cross-namespace:invoke")
        .await;
    let status = refused(&a2, Some(&service_token)).await;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "the transaction token in x-user-context was refused: the token's `typ` is \"at+jwt\", \
         but \"txntoken+jwt\" is required"
    );
}
