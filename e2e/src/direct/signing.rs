//! Tokens with exactly one property wrong, for tests that must show a validator refuses that
//! property and nothing else.
//!
//! The programs run as real processes on the real clock: a test cannot wait ten minutes for a
//! transaction token to expire, nor inject a clock into another process. What it can do, on its
//! own machine, is what an attacker who stole the internal IAM's database could: read the IAM's
//! signing key (the `signing_keys` table, `pkcs8_b64`, through the `storage` crate the IAM
//! itself uses) and sign claims the IAM never would have, such as an `exp` in the past. Such a
//! token is genuine in every other respect (issuer, key, `kid`, audience, `typ`), so its refusal
//! can only be for the property the test changed. [`forge`] is the other case: the same header
//! and claims signed by a key the IAM never had.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use storage::Database;
use storage::signing_keys::KeyStore;
use tokens::jwks::KeySet;
use tokens::{Algorithm, SigningKey, SystemClock};
use wire::Program;

use crate::kit::TestEnv;

/// The longest token the internal IAM signs (its retention arithmetic needs one; the value only
/// decides which retired keys are loaded, and a test's system never rotates).
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The internal IAM's signing keys, read from its database while it runs (SQLite in WAL mode:
/// a reader does not disturb it).
pub async fn iam_signing_keys(env: &TestEnv) -> KeySet {
    let url = env.stack().database_url(Program::InternalIam);
    let database = Database::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("cannot open the internal IAM's database: {error}"));
    let keys = KeyStore::new(database.clone(), Arc::new(SystemClock), MAX_TOKEN_LIFETIME)
        .load()
        .await
        .unwrap_or_else(|error| panic!("cannot load the internal IAM's signing keys: {error}"));
    database.close().await;
    keys
}

/// `claims` as a transaction token signed with the internal IAM's active key and `kid`.
pub fn sign_as_internal_iam(keys: &KeySet, claims: &Map<String, Value>) -> String {
    keys.sign(wire::jose::TYP_TXN_TOKEN, claims)
        .unwrap_or_else(|error| panic!("cannot sign with the IAM's key: {error}"))
}

/// `token` again, with the same header (`typ`, `alg`, `kid`) and claims, signed by a fresh key
/// that nobody publishes.
pub fn forge(token: &str) -> String {
    let header = segment(token, 0);
    let typ = header
        .get(wire::jose::TYP)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("the token has no typ"));
    let kid = header
        .get(wire::jose::KID)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("the token has no kid"));
    let stranger = SigningKey::generate(Algorithm::Es256)
        .and_then(|key| {
            SigningKey::from_pkcs8(Algorithm::Es256, key.pkcs8_der(), Some(kid.to_owned()))
        })
        .unwrap_or_else(|error| panic!("cannot make a key: {error}"));
    tokens::jws::sign(&stranger, typ, &claims_of(token), None)
        .unwrap_or_else(|error| panic!("cannot sign: {error}"))
}

/// The claims of a compact JWS, not verified: the test received the token from the issuer
/// itself, or made it.
pub fn claims_of(token: &str) -> Map<String, Value> {
    segment(token, 1)
}

fn segment(token: &str, index: usize) -> Map<String, Value> {
    let part = token
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("not a compact JWS"));
    let bytes = tokens::b64::decode(part).unwrap_or_else(|error| panic!("not base64url: {error}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("not a JSON object: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_forgery_keeps_header_and_claims_but_not_the_signature() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let claims = json!({"sub": "alice", "exp": 1});
        let token = tokens::jws::sign(&key, "txntoken+jwt", &claims, None).unwrap();
        let forged = forge(&token);
        assert_eq!(segment(&forged, 0), segment(&token, 0));
        assert_eq!(claims_of(&forged), claims_of(&token));
        assert_ne!(forged.split('.').nth(2), token.split('.').nth(2));
        // It does not verify with the key the kid names.
        let compact = tokens::jws::Compact::parse(&forged, &[Algorithm::Es256]).unwrap();
        assert!(compact.verify(key.public_jwk()).is_err());
    }
}
