//! Making DPoP proofs: the client side (RFC 9449 §4.1, §4.2).

use std::fmt;

use http::Method;
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::dpop::{DPOP_JWT_TYPE, Htu, ProofError, access_token_hash};
use crate::{Algorithm, KeyError, PublicJwk, SharedClock, SigningKey, jws};

/// Random bytes in each `jti`: 128 bits, above RFC 9449 §4.2's 96-bit floor, so that a client
/// sending a million proofs a second would still not repeat one in the age of the universe.
const JTI_BYTES: usize = 16;

/// The JWK members a verifier needs to check a signature and compute the RFC 7638 thumbprint.
/// `kid`, `use` and `alg` are left out: the proof's key is identified by its thumbprint only.
const JWK_MEMBERS: [&str; 4] = ["kty", "crv", "x", "y"];

/// A client's DPoP key: it signs one proof per HTTP request and is what the client's tokens
/// get bound to (`cnf.jkt`).
pub struct DpopKey {
    key: SigningKey,
    /// The `jwk` header member, built once.
    header: Map<String, Value>,
    jkt: String,
    clock: SharedClock,
    rng: SystemRandom,
}

#[derive(Serialize)]
struct ProofClaims<'a> {
    jti: &'a str,
    htm: &'a str,
    htu: &'a str,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

impl DpopKey {
    /// A fresh ES256 key, the default.
    pub fn generate(clock: SharedClock) -> Result<Self, KeyError> {
        Self::generate_with(Algorithm::Es256, clock)
    }

    /// A fresh key for `alg`.
    pub fn generate_with(alg: Algorithm, clock: SharedClock) -> Result<Self, KeyError> {
        Ok(Self::new(SigningKey::generate(alg)?, clock))
    }

    /// Wraps an existing key (e.g. one loaded from storage so a restart keeps its tokens'
    /// binding). `clock` supplies each proof's `iat`.
    pub fn new(key: SigningKey, clock: SharedClock) -> Self {
        let public = key.public_jwk().to_value();
        let jwk: Map<String, Value> = JWK_MEMBERS
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), public.get(*name)?.clone())))
            .collect();
        let mut header = Map::new();
        header.insert("jwk".into(), Value::Object(jwk));
        Self {
            jkt: key.public_jwk().thumbprint(),
            key,
            header,
            clock,
            rng: SystemRandom::new(),
        }
    }

    /// The RFC 7638 thumbprint of the public key: the `cnf.jkt` that tokens bound to this key
    /// carry, and the `dpop_jkt` of an authorization request (RFC 9449 §10).
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// The public key.
    pub fn public_jwk(&self) -> &PublicJwk {
        self.key.public_jwk()
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// A proof for one request: `htm` and `htu` name it, `access_token` is the token sent in
    /// `Authorization: DPoP` (its hash becomes `ath`), `nonce` is the server's latest
    /// `DPoP-Nonce`, if it sent one.
    ///
    /// Every call makes a new proof with a new `jti`, including retries: a server that keeps a
    /// replay cache refuses the same proof twice (RFC 9449 §7.3).
    pub fn proof(
        &self,
        htm: &Method,
        htu: &Htu,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, ProofError> {
        let mut jti = [0u8; JTI_BYTES];
        self.rng.fill(&mut jti).map_err(|_| ProofError::Rng)?;
        let jti = crate::b64::encode(jti);
        let claims = ProofClaims {
            jti: &jti,
            htm: htm.as_str(),
            htu: htu.as_str(),
            iat: self.clock.now(),
            ath: access_token.map(access_token_hash),
            nonce,
        };
        Ok(jws::sign(
            &self.key,
            DPOP_JWT_TYPE,
            &claims,
            Some(self.header.clone()),
        )?)
    }
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.algorithm())
            .field("jkt", &self.jkt)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use crate::jws::Compact;

    #[test]
    fn proof_has_the_rfc_9449_shape() {
        let clock = ManualClock::new(1_700_000_000);
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let key = DpopKey::generate_with(alg, clock.clone()).unwrap();
            let htu = Htu::parse("https://api.example/chat?x=1").unwrap();
            let proof = key
                .proof(&Method::POST, &htu, Some("the-token"), Some("n0nce"))
                .unwrap();
            let compact = Compact::parse(&proof, &[alg]).unwrap();
            assert_eq!(compact.header_str("typ"), Some("dpop+jwt"));
            assert_eq!(compact.header_str("kid"), None);
            let jwk = compact.header()["jwk"].as_object().unwrap();
            assert!(jwk.keys().all(|name| JWK_MEMBERS.contains(&name.as_str())));
            let public = PublicJwk::from_value(&compact.header()["jwk"]).unwrap();
            assert_eq!(public.thumbprint(), key.jkt());
            let claims = compact.verify(&public).unwrap();
            assert_eq!(claims["htm"], "POST");
            assert_eq!(claims["htu"], "https://api.example/chat");
            assert_eq!(claims["iat"], 1_700_000_000);
            assert_eq!(claims["ath"], access_token_hash("the-token"));
            assert_eq!(claims["nonce"], "n0nce");
            let jti = crate::b64::decode(claims["jti"].as_str().unwrap()).unwrap();
            assert_eq!(jti.len(), JTI_BYTES);
        }
    }

    #[test]
    fn optional_claims_are_absent_when_not_given() {
        let key = DpopKey::generate(ManualClock::new(1)).unwrap();
        let htu = Htu::parse("https://idp.example/token").unwrap();
        let first = key.proof(&Method::POST, &htu, None, None).unwrap();
        let second = key.proof(&Method::POST, &htu, None, None).unwrap();
        let claims = Compact::parse(&first, &[Algorithm::Es256])
            .unwrap()
            .verify(key.public_jwk())
            .unwrap();
        assert!(!claims.contains_key("ath"));
        assert!(!claims.contains_key("nonce"));
        let other = Compact::parse(&second, &[Algorithm::Es256])
            .unwrap()
            .verify(key.public_jwk())
            .unwrap();
        assert_ne!(claims["jti"], other["jti"]);
    }
}
