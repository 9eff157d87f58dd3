//! Keys are chosen by `kid` in the issuer's published set, and by nothing else: `jku`, `x5u`,
//! `x5c` and an embedded `jwk` are neither trusted nor fetched.

use serde_json::{Value, json};
use tokens::jws::JwsError;
use tokens::{ManualClock, ValidationError, Validator};

use crate::support::*;

/// Agent B's validator on the legitimate issuer's JWKS, plus an attacker's server that counts
/// any request a validator might be tricked into making.
async fn setup() -> (tokens::SigningKey, JwksServer, JwksServer, Validator) {
    let issuer = es256();
    let legit = JwksServer::for_keys(&[&issuer]).await;
    let attacker_server = JwksServer::start(json!({"keys": []})).await;
    let cache = cache_builder(&legit, ManualClock::new(NOW))
        .build()
        .unwrap();
    let validator = access_validator()
        .clock(ManualClock::new(NOW))
        .keys(cache)
        .build()
        .unwrap();
    (issuer, legit, attacker_server, validator)
}

#[tokio::test]
async fn an_attackers_embedded_key_and_key_urls_do_not_select_a_key() {
    let (_, legit, attacker_server, validator) = setup().await;
    let attacker = es256();
    attacker_server.serve(jwks_of(&[&attacker]));
    let header = json!({
        "alg": "ES256", "typ": "at+jwt", "kid": attacker.kid(),
        "jwk": attacker.public_jwk().to_value(),
        "jku": attacker_server.url().as_str(),
        "x5u": attacker_server.url().as_str(),
    });
    let token = sign_raw(&attacker, &header, &access_claims());
    assert_eq!(
        validator.validate::<Value>(&token).await.unwrap_err(),
        ValidationError::UnknownKid(attacker.kid().to_owned())
    );
    // The legitimate set was fetched (once, as the unknown `kid` allows); the attacker's
    // never was.
    assert_eq!(legit.hits(), 1);
    assert_eq!(attacker_server.hits(), 0);
}

#[tokio::test]
async fn borrowing_the_issuers_kid_fails_the_signature() {
    let (issuer, legit, attacker_server, validator) = setup().await;
    let attacker = es256();
    let header = json!({
        "alg": "ES256", "typ": "at+jwt", "kid": issuer.kid(),
        "jwk": attacker.public_jwk().to_value(),
        "jku": attacker_server.url().as_str(),
        "x5u": attacker_server.url().as_str(),
        "x5c": ["MIIBszCCAVmgAwIBAgIUJt"],
    });
    let token = sign_raw(&attacker, &header, &access_claims());
    assert_eq!(
        validator.validate::<Value>(&token).await.unwrap_err(),
        ValidationError::Jws(JwsError::BadSignature)
    );
    assert_eq!(legit.hits(), 1);
    assert_eq!(attacker_server.hits(), 0);
}

#[tokio::test]
async fn key_urls_on_a_genuine_token_are_ignored() {
    // The headers are not an error in themselves (RFC 7515 allows them); they are just never
    // used. The token verifies with the published key, and nothing else is contacted.
    let (issuer, legit, attacker_server, validator) = setup().await;
    let mut header = header(&issuer, "at+jwt");
    header["jku"] = attacker_server.url().as_str().into();
    header["x5u"] = attacker_server.url().as_str().into();
    let token = sign_raw(&issuer, &header, &access_claims());
    let verified = validator.validate::<Value>(&token).await.unwrap();
    assert_eq!(verified.kid(), issuer.kid());
    assert_eq!(legit.hits(), 1);
    assert_eq!(attacker_server.hits(), 0);
}
