//! Server nonces (RFC 9449 §8, §9): required, missing, stale, forged, valid.

use serde_json::json;
use tokens::DpopError;
use tokens::dpop::{NonceRejection, NonceSource};

use crate::helpers::{Forge, NOW, Server};

#[test]
fn a_missing_nonce_gets_use_dpop_nonce_with_a_fresh_one() {
    let server = Server::with_nonces();
    let forge = Forge::es256();
    let err = server.resource(&forge.sign(), &forge.jkt()).unwrap_err();
    let DpopError::UseDpopNonce { nonce, reason } = &err else {
        panic!("expected use_dpop_nonce, got {err:?}");
    };
    assert_eq!(*reason, NonceRejection::Missing);
    assert_eq!(err.error_code(), "use_dpop_nonce");
    assert_eq!(err.fresh_nonce(), Some(nonce.as_str()));
    assert_eq!(
        server.verifier.fresh_nonce().as_deref(),
        Some(nonce.as_str())
    );

    // The client retries with the nonce (and, as it must, a new jti).
    let retry = Forge::es256().claim("nonce", json!(nonce));
    server.resource(&retry.sign(), &retry.jkt()).unwrap();
}

#[test]
fn a_stale_nonce_is_refused_with_a_fresh_one() {
    let server = Server::with_nonces();
    let old = server.verifier.fresh_nonce().unwrap();
    server.clock.advance(120);
    let forge = Forge::es256()
        .claim("nonce", json!(old))
        .claim("iat", json!(NOW + 120));
    let err = server.resource(&forge.sign(), &forge.jkt()).unwrap_err();
    assert!(
        matches!(&err, DpopError::UseDpopNonce { nonce, reason: NonceRejection::Stale } if *nonce != old),
        "{err:?}"
    );
}

#[test]
fn the_previous_buckets_nonce_is_still_accepted() {
    let server = Server::with_nonces();
    let nonce = server.verifier.fresh_nonce().unwrap();
    server.clock.advance(60);
    let forge = Forge::es256()
        .claim("nonce", json!(nonce))
        .claim("iat", json!(NOW + 60));
    server.resource(&forge.sign(), &forge.jkt()).unwrap();
}

#[test]
fn forged_and_foreign_nonces_are_refused() {
    let server = Server::with_nonces();
    let foreign = NonceSource::generate(60).unwrap().issue(NOW);
    for nonce in [json!(foreign), json!("eyJ7S_zG.eyJH0-Z.HX4w-7v"), json!(12)] {
        let forge = Forge::es256().claim("nonce", nonce.clone());
        let err = server.resource(&forge.sign(), &forge.jkt()).unwrap_err();
        assert!(
            matches!(
                err,
                DpopError::UseDpopNonce {
                    reason: NonceRejection::Invalid,
                    ..
                }
            ),
            "{nonce}: {err:?}"
        );
    }
}

#[test]
fn without_a_nonce_policy_nonces_are_neither_required_nor_issued() {
    let server = Server::new();
    assert_eq!(server.verifier.fresh_nonce(), None);
    let forge = Forge::es256();
    server.resource(&forge.sign(), &forge.jkt()).unwrap();
}

#[test]
fn the_iat_window_still_applies_with_a_valid_nonce() {
    let server = Server::with_nonces();
    let nonce = server.verifier.fresh_nonce().unwrap();
    let forge = Forge::es256()
        .claim("nonce", json!(nonce))
        .claim("iat", json!(NOW - 61));
    assert!(matches!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::IatTooOld { .. })
    ));
}
