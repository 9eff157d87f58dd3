//! A stand-in for the external IAM's token signing: a real ES256 key set (`tokens::KeySet`)
//! whose JWK Set is served over HTTP on 127.0.0.1, minting RFC 9068 access tokens shaped like
//! the external IAM's, with the test's clock. Agent B and the internal IAM both fetch its JWKS,
//! as they fetch the external IAM's in the demo.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use tokens::{Algorithm, Clock as _, KeySet, ManualClock, SigningKey};

/// Agent B's resource identifier at the external IAM, as in the shipped IAM policy.
pub const AGENT_B_API: &str = agent_b::DEV_RESOURCE;

pub struct CustomerIssuer {
    pub issuer: String,
    pub jwks_uri: url::Url,
    keys: KeySet,
    clock: Arc<ManualClock>,
    serial: AtomicU64,
}

impl CustomerIssuer {
    pub async fn start(clock: Arc<ManualClock>) -> Self {
        let keys = KeySet::new(
            SigningKey::generate(Algorithm::Es256).unwrap(),
            Duration::from_secs(900),
            clock.clone(),
        );
        let jwks = keys.jwks().to_json().to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/jwks", get(move || async move { jwks }));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            issuer: format!("http://{addr}"),
            jwks_uri: format!("http://{addr}/jwks").parse().unwrap(),
            keys,
            clock,
            serial: AtomicU64::new(0),
        }
    }

    /// The claims of an access token for `subject`, bound to the DPoP key `jkt`, as the external
    /// IAM issues them after a login with `openid profile chatbot:access agent:invoke`.
    pub fn claims(&self, subject: &str, jkt: &str) -> Value {
        let now = self.clock.now();
        let serial = self.serial.fetch_add(1, Ordering::SeqCst);
        json!({
            "iss": self.issuer,
            "sub": subject,
            "aud": [AGENT_B_API, format!("{}/userinfo", self.issuer)],
            "exp": now + 600,
            "iat": now,
            "jti": format!("at-{subject}-{now}-{serial}"),
            "client_id": "web-app",
            "scope": "openid profile chatbot:access agent:invoke",
            "auth_time": now - 30,
            "amr": ["pwd", "otp"],
            "cnf": {"jkt": jkt}
        })
    }

    /// Signs `claims` as an access token (`typ: at+jwt`).
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as("at+jwt", claims)
    }

    /// Signs `claims` with the issuer's key and this `typ`.
    pub fn sign_as(&self, typ: &str, claims: &Value) -> String {
        self.keys.sign(typ, claims).unwrap()
    }

    /// A token with the usual claims, `adjust`ed.
    pub fn token_with(&self, subject: &str, jkt: &str, adjust: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.claims(subject, jkt);
        adjust(&mut claims);
        self.sign(&claims)
    }

    /// A token with the usual claims.
    pub fn token(&self, subject: &str, jkt: &str) -> String {
        self.token_with(subject, jkt, |_| {})
    }
}
