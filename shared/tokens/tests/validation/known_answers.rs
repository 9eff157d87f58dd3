//! Known-answer tests of the signature verification every token goes through: Wycheproof's
//! ECDSA P-256/SHA-256 (IEEE P1363 signatures, the JWS form) and Ed25519 vectors, fed to the
//! same function `Compact::verify` and the validator call.

use serde_json::json;
use tokens::jws::verify_signature;
use tokens::{Algorithm, PublicJwk, b64};
use wycheproof::TestResult;

#[derive(Debug, Default)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable: usize,
}

fn check(tally: &mut Tally, result: TestResult, verified: bool, id: usize, comment: &str) {
    match result {
        TestResult::Valid => {
            assert!(verified, "valid vector {id} ({comment}) was refused");
            tally.valid += 1;
        }
        TestResult::Invalid => {
            assert!(!verified, "invalid vector {id} ({comment}) was accepted");
            tally.invalid += 1;
        }
        // "Acceptable" vectors may go either way; the strict answer is not required here.
        TestResult::Acceptable => tally.acceptable += 1,
    }
}

#[test]
fn wycheproof_ecdsa_p256_sha256_p1363() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).unwrap();
    let total = set.number_of_tests;
    let mut tally = Tally::default();
    for group in set.test_groups {
        // The uncompressed point, 0x04 || x || y, as a JWK: the same path a JWKS key takes.
        let point: &[u8] = &group.key.key;
        assert_eq!((point.len(), point[0]), (65, 4));
        let jwk = PublicJwk::from_value(&json!({
            "kty": "EC", "crv": "P-256",
            "x": b64::encode(&point[1..33]),
            "y": b64::encode(&point[33..]),
        }))
        .unwrap();
        for test in group.tests {
            let verified = verify_signature(Algorithm::Es256, &jwk, &test.msg, &test.sig).is_ok();
            check(&mut tally, test.result, verified, test.tc_id, &test.comment);
        }
    }
    // Every vector ran, and both outcomes are well represented.
    assert_eq!(tally.valid + tally.invalid + tally.acceptable, total);
    assert!(tally.valid > 100 && tally.invalid > 50, "{tally:?}");
}

#[test]
fn wycheproof_ed25519() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let total = set.number_of_tests;
    let mut tally = Tally::default();
    for group in set.test_groups {
        let jwk = PublicJwk::from_value(&json!({
            "kty": "OKP", "crv": "Ed25519", "x": b64::encode(&*group.key.pk),
        }))
        .unwrap();
        for test in group.tests {
            let verified = verify_signature(Algorithm::EdDsa, &jwk, &test.msg, &test.sig).is_ok();
            check(&mut tally, test.result, verified, test.tc_id, &test.comment);
        }
    }
    assert_eq!(tally.valid + tally.invalid + tally.acceptable, total);
    assert!(tally.valid > 20 && tally.invalid > 50, "{tally:?}");
}

#[test]
fn a_key_only_verifies_its_own_algorithm() {
    // An Ed25519 signature presented as ES256 never reaches the ECDSA verifier. (The key is
    // RFC 8037's example: an all-zero `x` is a small-order point, refused as a JWK.)
    let jwk = PublicJwk::from_value(&json!({
        "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    }))
    .unwrap();
    assert_eq!(
        verify_signature(Algorithm::Es256, &jwk, b"m", &[0; 64]),
        Err(tokens::jws::JwsError::KeyAlgorithmMismatch {
            key: Algorithm::EdDsa,
            token: Algorithm::Es256
        })
    );
}
