//! Metadata (RFC 8414), the JWK Set, and the health endpoints.

use serde_json::Value;
use workload_identity::workloads::AGENT_B;

use crate::support::TestIam;

#[tokio::test]
async fn metadata_announces_certificate_bound_tokens_and_mtls_endpoints() {
    let iam = TestIam::start().await;
    let response = iam
        .client(AGENT_B)
        .get(iam.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let metadata: Value = response.json().await.unwrap();
    assert_eq!(metadata["issuer"], "https://localhost:8443");
    assert_eq!(metadata["token_endpoint"], "https://localhost:8443/token");
    assert_eq!(metadata["jwks_uri"], "https://localhost:8443/jwks.json");
    assert_eq!(metadata["tls_client_certificate_bound_access_tokens"], true);
    assert_eq!(
        metadata["mtls_endpoint_aliases"]["token_endpoint"],
        "https://localhost:8443/token"
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        serde_json::json!(["tls_client_auth"])
    );
    assert_eq!(
        metadata["grant_types_supported"],
        serde_json::json!([
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    iam.stop().await;
}

#[tokio::test]
async fn the_jwks_publishes_the_active_key_for_a_minute_of_caching() {
    let iam = TestIam::start().await;
    let response = iam
        .client(AGENT_B)
        .get(iam.url("/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/jwk-set+json"
    );
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    let jwks = tokens::Jwks::from_json(&response.bytes().await.unwrap()).unwrap();
    let active = iam.handles.keys.current().active().kid().to_owned();
    let kids: Vec<&str> = jwks.keys().iter().filter_map(|key| key.kid()).collect();
    assert_eq!(kids, [active.as_str()]);
    // Only public members are published.
    let text = jwks.to_json().to_string();
    assert!(!text.contains("\"d\""), "{text}");
    iam.stop().await;
}

#[tokio::test]
async fn health_answers_on_mtls_and_on_the_plain_probe_listener_only() {
    let iam = TestIam::start().await;
    let over_mtls = iam
        .client(AGENT_B)
        .get(iam.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(over_mtls.status(), 200);
    assert_eq!(over_mtls.text().await.unwrap(), "ok");

    let plain = reqwest::Client::builder()
        .use_preconfigured_tls(
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        )
        .build()
        .unwrap();
    let probe = plain
        .get(format!("http://{}/healthz", iam.health))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    assert_eq!(probe.text().await.unwrap(), "ok");
    // The probe listener serves nothing else: not the token endpoint, not the keys.
    for path in ["/token", "/jwks.json"] {
        let response = plain
            .get(format!("http://{}{path}", iam.health))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    iam.stop().await;
}
