//! One test per RFC 9449 §4.3 check, each asserting the exact error and its OAuth code.

use http::Method;
use serde_json::json;
use tokens::dpop::{DpopConfig, Htu, HtuError, access_token_hash};
use tokens::jwk::JwkError;
use tokens::jws::{JwsError, MAX_TOKEN_BYTES};
use tokens::{Algorithm, DpopError, SigningKey, b64};

use crate::helpers::{Forge, NOW, Server, TOKEN, URL, public_members};

#[test]
fn a_well_formed_proof_passes() {
    let server = Server::new();
    let forge = Forge::es256();
    let proof = server.resource(&forge.sign(), &forge.jkt()).unwrap();
    assert_eq!(proof.jkt(), forge.jkt());
    assert_eq!(proof.iat(), NOW);
    let ed = Forge::new(Algorithm::EdDsa);
    server.resource(&ed.sign(), &ed.jkt()).unwrap();
}

#[test]
fn malformed_jwts_are_refused() {
    let server = Server::new();
    let err = server.token_endpoint("not-a-jwt").unwrap_err();
    assert_eq!(err, DpopError::MalformedJwt(JwsError::Malformed));
    assert_eq!(err.error_code(), "invalid_dpop_proof");
    let big = "a".repeat(MAX_TOKEN_BYTES + 1);
    assert_eq!(
        server.token_endpoint(&big),
        Err(DpopError::MalformedJwt(JwsError::TooLarge {
            len: MAX_TOKEN_BYTES + 1,
            max: MAX_TOKEN_BYTES
        }))
    );
    // Two proofs joined into one header value are not "a single JWT".
    let one = Forge::es256().sign();
    assert_eq!(
        server.token_endpoint(&format!("{one},{one}")),
        Err(DpopError::MalformedJwt(JwsError::Malformed))
    );
    let crit = Forge::es256().header("crit", json!(["exp"])).sign();
    assert!(matches!(
        server.token_endpoint(&crit),
        Err(DpopError::MalformedJwt(JwsError::CriticalHeader(_)))
    ));
}

#[test]
fn typ_must_be_exactly_dpop_jwt() {
    let server = Server::new();
    for (typ, found) in [
        (json!("JWT"), Some("JWT")),
        (json!("at+jwt"), Some("at+jwt")),
        (json!("DPOP+JWT"), Some("DPOP+JWT")),
        (json!(1), None),
    ] {
        let forge = Forge::es256().header("typ", typ);
        assert_eq!(
            server.resource(&forge.sign(), &forge.jkt()),
            Err(DpopError::WrongType {
                found: found.map(str::to_owned)
            })
        );
    }
    let forge = Forge::es256().without_header("typ");
    assert_eq!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::WrongType { found: None })
    );
}

#[test]
fn alg_none_hmac_and_disallowed_algorithms_are_refused() {
    let server = Server::new();
    let none = Forge::es256()
        .header("alg", json!("none"))
        .with_signature(b"");
    assert_eq!(server.token_endpoint(&none), Err(DpopError::AlgNone));
    let none = Forge::es256()
        .header("alg", json!("NONE"))
        .with_signature(b"");
    assert_eq!(server.token_endpoint(&none), Err(DpopError::AlgNone));
    // HS256 keyed with the public key's bytes: the classic confusion attack.
    let hs = Forge::es256()
        .header("alg", json!("HS256"))
        .with_signature(&[0; 32]);
    assert_eq!(
        server.token_endpoint(&hs),
        Err(DpopError::AlgorithmNotAllowed("HS256".into()))
    );
    let rs = Forge::es256()
        .header("alg", json!("RS256"))
        .with_signature(&[0; 256]);
    assert_eq!(
        server.token_endpoint(&rs),
        Err(DpopError::AlgorithmNotAllowed("RS256".into()))
    );
    let missing = Forge::es256().without_header("alg").sign();
    assert_eq!(
        server.token_endpoint(&missing),
        Err(DpopError::MalformedJwt(JwsError::MissingAlg))
    );
    // EdDSA is a good algorithm, but this server's policy allows ES256 only.
    let es256_only = Server::with_config(DpopConfig {
        algorithms: vec![Algorithm::Es256],
        ..DpopConfig::default()
    });
    let ed = Forge::new(Algorithm::EdDsa);
    assert_eq!(
        es256_only.resource(&ed.sign(), &ed.jkt()),
        Err(DpopError::AlgorithmNotAllowed("EdDSA".into()))
    );
}

#[test]
fn jwk_must_be_present_public_and_of_the_signing_type() {
    let server = Server::new();
    let forge = Forge::es256().without_header("jwk");
    assert_eq!(
        server.token_endpoint(&forge.sign()),
        Err(DpopError::MissingJwk)
    );

    // A private key in the header: refused even though the signature would verify.
    let forge = Forge::es256();
    let mut leaked = public_members(&forge.key);
    leaked["d"] = json!("3BdqKOPcxMa4FsEs8XrKiQdS8yhuGVSn9NvRhKTpPbE");
    let forge = forge.header("jwk", leaked);
    let err = server.token_endpoint(&forge.sign()).unwrap_err();
    assert_eq!(err, DpopError::PrivateKeyInJwk("d"));
    assert_eq!(err.error_code(), "invalid_dpop_proof");

    let forge = Forge::es256().header("jwk", json!({"kty": "oct", "k": "c2VjcmV0"}));
    assert_eq!(
        server.token_endpoint(&forge.sign()),
        Err(DpopError::PrivateKeyInJwk("k"))
    );
    let forge = Forge::es256().header("jwk", json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}));
    assert_eq!(
        server.token_endpoint(&forge.sign()),
        Err(DpopError::InvalidJwk(JwkError::MissingMember("crv")))
    );
    let forge = Forge::es256().header("jwk", json!("not an object"));
    assert_eq!(
        server.token_endpoint(&forge.sign()),
        Err(DpopError::InvalidJwk(JwkError::NotAnObject))
    );

    // An Ed25519 key in a proof that claims ES256.
    let ed = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let forge = Forge::es256().header("jwk", public_members(&ed));
    assert_eq!(
        server.token_endpoint(&forge.sign()),
        Err(DpopError::KeyAlgorithmMismatch {
            key: Algorithm::EdDsa,
            proof: Algorithm::Es256
        })
    );
}

#[test]
fn the_signature_must_verify_with_the_header_key() {
    let server = Server::new();
    // Signed by one key, claiming another: the attacker's way to use someone's bound token.
    let victim = SigningKey::generate(Algorithm::Es256).unwrap();
    let forge = Forge::es256().header("jwk", public_members(&victim));
    assert_eq!(
        server.resource(&forge.sign(), &victim.public_jwk().thumbprint()),
        Err(DpopError::BadSignature)
    );

    // A good proof with its payload swapped.
    let forge = Forge::es256();
    let proof = forge.sign();
    let mut parts: Vec<&str> = proof.split('.').collect();
    let other = b64::encode(
        json!({"jti": "x", "htm": "GET", "htu": URL, "iat": NOW, "ath": access_token_hash(TOKEN)})
            .to_string(),
    );
    parts[1] = &other;
    assert_eq!(
        server.resource(&parts.join("."), &forge.jkt()),
        Err(DpopError::BadSignature)
    );
}

#[test]
fn every_required_claim_must_be_present_and_typed() {
    let server = Server::new();
    for name in ["jti", "htm", "htu", "iat"] {
        let forge = Forge::es256().without_claim(name);
        assert_eq!(
            server.resource(&forge.sign(), &forge.jkt()),
            Err(DpopError::MissingClaim(name)),
            "{name}"
        );
    }
    for (name, value) in [
        ("jti", json!("")),
        ("jti", json!(42)),
        ("htm", json!(["POST"])),
        ("htu", json!(null)),
        ("iat", json!("1700000000")),
        ("iat", json!(1_700_000_000.5)),
    ] {
        let forge = Forge::es256().claim(name, value.clone());
        assert_eq!(
            server.resource(&forge.sign(), &forge.jkt()),
            Err(DpopError::InvalidClaim(name)),
            "{name} = {value}"
        );
    }
}

#[test]
fn htm_must_match_the_request_method_exactly() {
    let server = Server::new();
    let forge = Forge::es256();
    let err = server
        .verifier
        .verify(
            &forge.sign(),
            &Method::GET,
            &server.htu,
            Some(TOKEN),
            Some(&forge.jkt()),
        )
        .unwrap_err();
    assert_eq!(
        err,
        DpopError::HtmMismatch {
            expected: "GET".into(),
            found: "POST".into()
        }
    );
    assert_eq!(err.error_code(), "invalid_dpop_proof");
    // Methods are case-sensitive.
    let forge = Forge::es256().claim("htm", json!("post"));
    assert!(matches!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::HtmMismatch { .. })
    ));
}

#[test]
fn htu_must_name_the_request_uri() {
    let server = Server::new();
    for other in [
        "https://agent-b.example/v1/other",
        "http://agent-b.example/v1/chat",
        "https://agent-b.example:8443/v1/chat",
        "https://evil.example/v1/chat",
        "https://agent-b.example/v1/chat/",
        "https://agent-b.example/V1/chat",
    ] {
        let forge = Forge::es256().claim("htu", json!(other));
        assert_eq!(
            server.resource(&forge.sign(), &forge.jkt()),
            Err(DpopError::HtuMismatch {
                expected: URL.into(),
                found: other.into()
            }),
            "{other}"
        );
    }
    let forge = Forge::es256().claim("htu", json!("/v1/chat"));
    assert_eq!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::InvalidHtu(HtuError::NotAbsolute))
    );
}

#[test]
fn htu_matches_after_normalisation_ignoring_query_and_fragment() {
    // Each spelling is the proof's; the server's route is the canonical one, and the other way
    // round.
    for spelling in [
        "HTTPS://Agent-B.Example:443/v1/chat",
        "https://agent-b.example/v1/chat?session=1",
        "https://agent-b.example/v1/chat#top",
        "https://agent-b.example/v1/./x/../chat",
        "https://agent-b.example/v1/%63hat",
    ] {
        let server = Server::new();
        let forge = Forge::es256().claim("htu", json!(spelling));
        server
            .resource(&forge.sign(), &forge.jkt())
            .unwrap_or_else(|e| panic!("{spelling}: {e}"));

        let mut server = Server::new();
        server.htu = Htu::parse(spelling).unwrap();
        let forge = Forge::es256();
        server
            .resource(&forge.sign(), &forge.jkt())
            .unwrap_or_else(|e| panic!("{spelling} as route: {e}"));
    }
    // The brief's canonical case.
    let mut server = Server::new();
    server.htu = Htu::parse("https://server.example.com/token").unwrap();
    let forge = Forge::es256().claim("htu", json!("HTTPS://Server.Example.com:443/token"));
    server.resource(&forge.sign(), &forge.jkt()).unwrap();
}

#[test]
fn iat_must_be_within_the_window() {
    let server = Server::new();
    for iat in [NOW - 60, NOW, NOW + 5] {
        let forge = Forge::es256().claim("iat", json!(iat));
        server
            .resource(&forge.sign(), &forge.jkt())
            .unwrap_or_else(|e| panic!("iat {iat}: {e}"));
    }
    let forge = Forge::es256().claim("iat", json!(NOW - 61));
    assert_eq!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::IatTooOld {
            iat: NOW - 61,
            now: NOW,
            max_age: 60
        })
    );
    let forge = Forge::es256().claim("iat", json!(NOW + 6));
    assert_eq!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::IatInFuture {
            iat: NOW + 6,
            now: NOW,
            leeway: 5
        })
    );
    // Extreme values do not overflow into acceptance.
    for iat in [i64::MIN, i64::MAX] {
        let forge = Forge::es256().claim("iat", json!(iat));
        assert!(server.resource(&forge.sign(), &forge.jkt()).is_err());
    }
}

#[test]
fn ath_must_be_present_and_hash_the_presented_token() {
    let server = Server::new();
    let forge = Forge::es256().without_claim("ath");
    assert_eq!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::AthMissing)
    );
    let forge = Forge::es256().claim("ath", json!(access_token_hash("another token")));
    assert_eq!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::AthMismatch)
    );
    let forge = Forge::es256().claim("ath", json!(7));
    assert_eq!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::InvalidClaim("ath"))
    );
    // At a token endpoint there is no token, and an `ath` is not looked at.
    let forge = Forge::es256().without_claim("ath");
    server.token_endpoint(&forge.sign()).unwrap();
}

#[test]
fn the_proof_key_must_be_the_key_the_token_is_bound_to() {
    let server = Server::new();
    let forge = Forge::es256();
    let someone_else = SigningKey::generate(Algorithm::Es256)
        .unwrap()
        .public_jwk()
        .thumbprint();
    let err = server.resource(&forge.sign(), &someone_else).unwrap_err();
    assert_eq!(
        err,
        DpopError::JktMismatch {
            expected: someone_else,
            found: forge.jkt()
        }
    );
    assert_eq!(err.error_code(), "invalid_token");
    // A token with no binding at all is refused, not waved through.
    let err = server
        .verifier
        .verify(&forge.sign(), &Method::POST, &server.htu, Some(TOKEN), None)
        .unwrap_err();
    assert_eq!(err, DpopError::TokenNotBound);
    assert_eq!(err.error_code(), "invalid_token");
}
