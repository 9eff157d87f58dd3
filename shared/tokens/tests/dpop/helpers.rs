//! A test server (verifier + manual clock) and a forge for proofs that break one rule at a time.

use std::sync::Arc;

use http::Method;
use serde_json::{Map, Value, json};
use tokens::dpop::{DpopConfig, DpopVerifier, Htu, NonceSource, access_token_hash};
use tokens::{Algorithm, DpopError, ManualClock, SigningKey, VerifiedProof, b64};

pub const NOW: i64 = 1_700_000_000;
pub const URL: &str = "https://agent-b.example/v1/chat";
pub const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjdXN0b21lciJ9.c2lnbmF0dXJl";

pub struct Server {
    pub clock: Arc<ManualClock>,
    pub verifier: DpopVerifier,
    pub htu: Htu,
}

impl Server {
    pub fn new() -> Self {
        Self::with_config(DpopConfig::default())
    }

    pub fn with_config(config: DpopConfig) -> Self {
        let clock = ManualClock::new(NOW);
        Self {
            verifier: DpopVerifier::new(config, clock.clone()).unwrap(),
            clock,
            htu: Htu::parse(URL).unwrap(),
        }
    }

    /// A server that requires nonces from a fresh 60-second source.
    pub fn with_nonces() -> Self {
        let clock = ManualClock::new(NOW);
        Self {
            verifier: DpopVerifier::new(DpopConfig::default(), clock.clone())
                .unwrap()
                .require_nonces(NonceSource::generate(60).unwrap()),
            clock,
            htu: Htu::parse(URL).unwrap(),
        }
    }

    /// Verifies as a resource server: `POST URL` with `TOKEN` bound to `jkt`.
    pub fn resource(&self, proof: &str, jkt: &str) -> Result<VerifiedProof, DpopError> {
        self.verifier
            .verify(proof, &Method::POST, &self.htu, Some(TOKEN), Some(jkt))
    }

    /// Verifies as a token endpoint: `POST URL`, no token, no expected key.
    pub fn token_endpoint(&self, proof: &str) -> Result<VerifiedProof, DpopError> {
        self.verifier
            .verify(proof, &Method::POST, &self.htu, None, None)
    }
}

/// Builds a proof field by field, then signs it with any key, so each test can break exactly
/// one rule.
pub struct Forge {
    pub key: SigningKey,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

static JTI: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The four members a proof's `jwk` needs.
pub fn public_members(key: &SigningKey) -> Value {
    let full = key.public_jwk().to_value();
    let mut jwk = Map::new();
    for name in ["kty", "crv", "x", "y"] {
        if let Some(value) = full.get(name) {
            jwk.insert(name.into(), value.clone());
        }
    }
    Value::Object(jwk)
}

impl Forge {
    /// A valid resource-server proof for `POST URL` with `TOKEN`, issued now.
    pub fn new(alg: Algorithm) -> Self {
        let key = SigningKey::generate(alg).unwrap();
        let header = json!({"typ": "dpop+jwt", "alg": alg.as_str(), "jwk": public_members(&key)});
        let jti = JTI.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let claims = json!({
            "jti": format!("jti-{jti}-{}", key.kid()),
            "htm": "POST",
            "htu": URL,
            "iat": NOW,
            "ath": access_token_hash(TOKEN),
        });
        Self {
            key,
            header: header.as_object().unwrap().clone(),
            claims: claims.as_object().unwrap().clone(),
        }
    }

    pub fn es256() -> Self {
        Self::new(Algorithm::Es256)
    }

    pub fn jkt(&self) -> String {
        self.key.public_jwk().thumbprint()
    }

    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Signs header and claims exactly as given.
    pub fn sign(&self) -> String {
        let input = format!(
            "{}.{}",
            b64::encode(Value::Object(self.header.clone()).to_string()),
            b64::encode(Value::Object(self.claims.clone()).to_string())
        );
        let signature = self.key.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", b64::encode(signature))
    }

    /// Header and claims with an arbitrary signature (for `alg` values nobody can sign).
    pub fn with_signature(&self, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(Value::Object(self.header.clone()).to_string()),
            b64::encode(Value::Object(self.claims.clone()).to_string()),
            b64::encode(signature)
        )
    }
}
