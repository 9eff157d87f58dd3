//! The customer-facing issuer as the internal IAM sees it: an `iss`, a JWK Set served over HTTP
//! on 127.0.0.1, and RFC 9068 access tokens for Agent B's API, signed with its key.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use serde_json::json;
use tokens::{Algorithm, Jwks, SigningKey, jws};

/// The audience customer tokens carry: Agent B's API, as in the shipped IAM policy.
pub const AGENT_B_API: &str = "https://agent-b.namespace-b.demo.test";

pub struct CustomerIssuer {
    pub issuer: String,
    pub jwks_uri: url::Url,
    key: SigningKey,
}

impl CustomerIssuer {
    pub async fn start() -> Self {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let jwks = Jwks::new(vec![key.public_jwk().clone()])
            .to_json()
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/jwks.json", get(move || async move { jwks }));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            issuer: format!("http://{addr}"),
            jwks_uri: format!("http://{addr}/jwks.json").parse().unwrap(),
            key,
        }
    }

    /// A DPoP-bound access token for Agent B's API, for `subject`, issued now.
    pub fn access_token(&self, subject: &str) -> String {
        let now = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        let claims = json!({
            "iss": self.issuer,
            "sub": subject,
            "aud": AGENT_B_API,
            "exp": now + 600,
            "iat": now,
            "jti": format!("customer-token-{subject}-{now}"),
            "client_id": "web-app",
            "scope": "openid chatbot:access agent:invoke",
            "auth_time": now - 30,
            "amr": ["pwd", "otp"],
            "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
        });
        jws::sign(&self.key, "at+jwt", &claims, None).unwrap()
    }
}
