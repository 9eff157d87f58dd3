//! Signing-key rotation and registration changes reach the running server without a restart.

use std::time::Duration;

use internal_iam::registry::store;
use workload_identity::workloads::AGENT_B;

use crate::support::TestIam;
use crate::support::iam::{CROSS_NS, SERVICE_A};

const PARAMS: [(&str, &str); 3] = [
    ("grant_type", "client_credentials"),
    ("audience", SERVICE_A),
    ("scope", CROSS_NS),
];

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&tokens::b64::decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn kids(jwks: &tokens::Jwks) -> Vec<String> {
    jwks.keys()
        .iter()
        .map(|key| key.kid().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rotated_key_is_published_at_once_signs_after_the_delay_and_the_old_one_lingers() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let old = iam.handles.keys.current().active().kid().to_owned();

    // An operator rotates with a ten-minute delay (what `internal-iam keys rotate` does).
    let new = iam
        .handles
        .keys
        .store()
        .rotate(Duration::from_secs(600))
        .await
        .unwrap();
    iam.handles.keys.refresh_now().await.unwrap();
    assert_eq!(kids(&iam.jwks().await), [old.clone(), new.kid.clone()]);
    let token = iam.token(&client, &PARAMS).await;
    assert_eq!(kid_of(token["access_token"].as_str().unwrap()), old);

    iam.clock.advance(600);
    iam.handles.keys.refresh_now().await.unwrap();
    let token = iam.token(&client, &PARAMS).await;
    let access_token = token["access_token"].as_str().unwrap();
    assert_eq!(kid_of(access_token), new.kid);
    iam.verify_service_token(access_token).await;
    // The old key stays published while tokens it signed may still be valid: 15 minutes of
    // lifetime plus the validators' 5 minutes of leeway.
    assert_eq!(kids(&iam.jwks().await), [new.kid.clone(), old.clone()]);
    iam.clock.advance(1200);
    iam.handles.keys.refresh_now().await.unwrap();
    assert_eq!(kids(&iam.jwks().await), std::slice::from_ref(&new.kid));
    iam.stop().await;
}

#[tokio::test]
async fn a_removed_registration_stops_issuance() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    iam.token(&client, &PARAMS).await;
    assert!(
        store::remove(&iam.handles.db, &iam.pki.id(AGENT_B))
            .await
            .unwrap()
    );
    iam.handles.registry.refresh_now().await.unwrap();
    let error = iam.refused(&client, &PARAMS).await;
    assert_eq!(
        (error.status, error.error.as_str()),
        (400, "invalid_client")
    );
    iam.stop().await;
}
