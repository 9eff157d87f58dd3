//! The customer-facing issuer, as the internal IAM sees it: an `iss`, a JWK Set served over HTTP
//! on 127.0.0.1, and RFC 9068 access tokens signed with its key.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use tokens::{Algorithm, Jwks, SigningKey, jws};

/// The audience customer tokens carry for Agent B's API, as in the shipped policy.
pub const AGENT_B_API: &str = "https://agent-b.namespace-b.demo.test";

pub struct ExternalIssuer {
    pub issuer: String,
    pub jwks_uri: url::Url,
    key: SigningKey,
}

impl ExternalIssuer {
    pub async fn start() -> Self {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let jwks = Jwks::new(vec![key.public_jwk().clone()])
            .to_json()
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let router = Router::new().route("/jwks.json", get(move || async move { jwks }));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            issuer: format!("http://{addr}"),
            jwks_uri: format!("http://{addr}/jwks.json").parse().unwrap(),
            key,
        }
    }

    /// The claims of a customer's access token for Agent B, issued at `now`.
    pub fn claims(&self, now: i64) -> Value {
        json!({
            "iss": self.issuer,
            "sub": "customer-42",
            "aud": AGENT_B_API,
            "exp": now + 600,
            "iat": now,
            "jti": "customer-token-1",
            "client_id": "web-app",
            "scope": "openid chatbot:access agent:invoke",
            "auth_time": now - 30,
            "amr": ["pwd", "otp"],
            "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
        })
    }

    /// A token with these claims and `typ`, signed by this issuer.
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        jws::sign(&self.key, typ, claims, None).unwrap()
    }

    /// A well-formed access token for Agent B, issued at `now`.
    pub fn access_token(&self, now: i64) -> String {
        self.sign("at+jwt", &self.claims(now))
    }
}

/// `claims` with the members of `patch` replaced (a `null` removes the member).
pub fn patched(mut claims: Value, patch: Value) -> Value {
    for (name, value) in patch.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}
