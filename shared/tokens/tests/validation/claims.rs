//! The typed claims of each kind of token, read through the validator that kind needs.

use std::time::Duration;

use serde_json::{Value, json};
use tokens::claims::{
    AccessTokenClaims, Confirmation, IdTokenClaims, ServiceTokenClaims, TransactionTokenClaims,
    at_hash,
};
use tokens::{Algorithm, Jwks, ManualClock, SigningKey, ValidationError, Validator};

use crate::support::*;

fn jwks(key: &SigningKey) -> Jwks {
    Jwks::new(vec![key.public_jwk().clone()])
}

#[tokio::test]
async fn a_customer_access_token_reads_into_its_claims() {
    let key = es256();
    let dpop_key = es256();
    let claims = access_claims_with(json!({
        "cnf": Confirmation::for_key(dpop_key.public_jwk()),
        "auth_time": NOW - 10, "acr": "urn:example:mfa", "amr": ["pwd", "otp"],
        "preferred_username": "alice"
    }));
    let validator = access_validator()
        .require_scopes(&["agent:invoke"])
        .clock(ManualClock::new(NOW))
        .keys(jwks(&key))
        .build()
        .unwrap();
    let verified = validator
        .validate::<AccessTokenClaims>(&access_token(&key, &claims))
        .await
        .unwrap();
    assert_eq!(verified.expires_at(), NOW + 600);
    let claims = verified.into_claims();
    assert_eq!(claims.client_id, "web-app");
    assert!(claims.scope.contains("chatbot:access"));
    assert_eq!(
        claims.amr.as_deref(),
        Some(&["pwd".to_owned(), "otp".to_owned()][..])
    );
    assert!(claims.cnf.as_ref().unwrap().is_key(dpop_key.public_jwk()));
    assert_eq!(
        claims.dpop_jkt(),
        Some(dpop_key.public_jwk().thumbprint().as_str())
    );
}

#[tokio::test]
async fn claims_of_the_wrong_shape_are_refused_after_the_checks() {
    let key = es256();
    let validator = static_validator(jwks(&key));
    for (patch, needle) in [
        (json!({"scope": "a  b"}), "empty scope token"),
        (
            json!({"cnf": {"jwk": {"kty": "EC"}}}),
            "unsupported confirmation method",
        ),
        (json!({"amr": "pwd"}), "invalid type"),
    ] {
        let token = access_token(&key, &access_claims_with(patch.clone()));
        match validator.validate::<AccessTokenClaims>(&token).await {
            Err(ValidationError::ClaimsShape(message)) => {
                assert!(message.contains(needle), "{patch}: {message}");
            }
            other => panic!("{patch}: {other:?}"),
        }
    }
    // A scope the validator requires but the token lacks is a 403, not a 401.
    let needs_admin = access_validator()
        .require_scopes(&["admin"])
        .clock(ManualClock::new(NOW))
        .keys(jwks(&key))
        .build()
        .unwrap();
    let error = needs_admin
        .validate::<AccessTokenClaims>(&access_token(&key, &access_claims()))
        .await
        .unwrap_err();
    assert_eq!(error, ValidationError::InsufficientScope("admin".into()));
    assert_eq!(
        (error.oauth_error_code(), error.http_status()),
        ("insufficient_scope", 403)
    );
}

#[tokio::test]
async fn an_id_token_validates_as_an_id_token_and_only_as_one() {
    let key = es256();
    let id_validator = Validator::builder()
        .issuer(ISSUER)
        .audience("web-app")
        .id_token_typ()
        .algorithms(&[Algorithm::Es256])
        .require(&["iat", "sub", "nonce"])
        .clock(ManualClock::new(NOW))
        .keys(jwks(&key))
        .build()
        .unwrap();
    let access = access_token(&key, &access_claims());
    let id_claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": "web-app", "exp": NOW + 300, "iat": NOW,
        "auth_time": NOW - 5, "nonce": "n-0S6", "amr": ["pwd", "otp"], "sid": "s1",
        "at_hash": at_hash(Algorithm::Es256, &access)
    });
    let id_token = sign_raw(&key, &header(&key, "JWT"), &id_claims);
    let verified = id_validator
        .validate::<IdTokenClaims>(&id_token)
        .await
        .unwrap();
    verified
        .claims()
        .check_login("web-app", "n-0S6", Some(&access), verified.algorithm())
        .unwrap();

    // The access token is not an ID token...
    assert_eq!(
        id_validator.validate::<Value>(&access).await.unwrap_err(),
        ValidationError::WrongTyp {
            expected: "\"JWT\" or none".into(),
            found: Some("at+jwt".into())
        }
    );
    // ...and the ID token is not an access token.
    assert_eq!(
        static_validator(jwks(&key))
            .validate::<Value>(&id_token)
            .await
            .unwrap_err(),
        ValidationError::WrongTyp {
            expected: "\"at+jwt\"".into(),
            found: Some("JWT".into())
        }
    );
}

#[tokio::test]
async fn a_service_token_reads_its_certificate_binding() {
    let key = es256();
    let svid = "spiffe://example.org/ns/namespace-b/sa/agent-b";
    let certificate = b"the DER of agent-b's certificate";
    let validator = Validator::builder()
        .issuer("https://internal-iam.example")
        .audience("agent-service-a")
        .typ("at+jwt")
        .algorithms(&[Algorithm::Es256])
        .require(&["iat", "jti"])
        .require_scopes(&["cross-namespace:invoke"])
        .max_lifetime(Duration::from_secs(15 * 60))
        .clock(ManualClock::new(NOW))
        .keys(jwks(&key))
        .build()
        .unwrap();
    let claims = json!({
        "iss": "https://internal-iam.example", "sub": svid, "client_id": svid,
        "aud": "agent-service-a", "scope": "cross-namespace:invoke", "jti": "st-1",
        "exp": NOW + 300, "iat": NOW, "cnf": Confirmation::for_certificate(certificate)
    });
    let token = access_token(&key, &claims);
    let verified = validator
        .validate::<ServiceTokenClaims>(&token)
        .await
        .unwrap();
    assert!(verified.claims().cnf.is_certificate(certificate));
    assert!(!verified.claims().cnf.is_certificate(b"another certificate"));

    // A token that outlives the 15-minute ceiling is refused whatever its issuer says.
    let mut long = claims.clone();
    long["exp"] = json!(NOW + 16 * 60);
    let long = access_token(&key, &long);
    assert_eq!(
        validator
            .validate::<ServiceTokenClaims>(&long)
            .await
            .unwrap_err(),
        ValidationError::LifetimeTooLong {
            exp: NOW + 16 * 60,
            max_seconds: 15 * 60
        }
    );
}

#[tokio::test]
async fn a_transaction_token_is_its_own_kind() {
    let key = es256();
    let txn_validator = Validator::builder()
        .issuer("https://internal-iam.example")
        .audience("example.org")
        .typ("txntoken+jwt")
        .algorithms(&[Algorithm::Es256])
        .require(&["iat", "txn", "sub", "req_wl"])
        .clock(ManualClock::new(NOW))
        .keys(jwks(&key))
        .build()
        .unwrap();
    let claims = json!({
        "iss": "https://internal-iam.example", "aud": "example.org", "iat": NOW,
        "exp": NOW + 60, "txn": "req-42", "sub": "alice", "scope": "chatbot:access",
        "tctx": {"scope": "openid chatbot:access agent:invoke", "iss": ISSUER},
        "req_wl": "spiffe://example.org/ns/namespace-b/sa/agent-b"
    });
    let token = sign_raw(&key, &header(&key, "txntoken+jwt"), &claims);
    let verified = txn_validator
        .validate::<TransactionTokenClaims>(&token)
        .await
        .unwrap();
    assert_eq!(verified.claims().txn, "req-42");
    assert_eq!(
        verified.claims().req_wl.latest(),
        "spiffe://example.org/ns/namespace-b/sa/agent-b"
    );
    // Presented where an access token is expected, it is refused by type.
    assert_eq!(
        static_validator(jwks(&key))
            .validate::<Value>(&token)
            .await
            .unwrap_err(),
        ValidationError::WrongTyp {
            expected: "\"at+jwt\"".into(),
            found: Some("txntoken+jwt".into())
        }
    );
}
