//! Single use within the window, expiry by the injected clock, and the capacity limit.

use std::sync::Arc;

use serde_json::json;
use tokens::DpopError;
use tokens::dpop::{DpopConfig, access_token_hash};

use crate::helpers::{Forge, NOW, Server};

#[test]
fn a_proof_is_accepted_once() {
    let server = Server::new();
    let forge = Forge::es256();
    let proof = forge.sign();
    server.resource(&proof, &forge.jkt()).unwrap();
    let err = server.resource(&proof, &forge.jkt()).unwrap_err();
    assert_eq!(err, DpopError::Replayed);
    assert_eq!(err.error_code(), "invalid_dpop_proof");
    // Re-signing the same claims (ECDSA signatures differ each time) does not help.
    assert_eq!(
        server.resource(&forge.sign(), &forge.jkt()),
        Err(DpopError::Replayed)
    );
}

#[test]
fn after_the_window_the_entry_is_gone_and_the_proof_is_too_old_anyway() {
    // A small cache has one shard, so the next proof's sweep sees the old entry.
    let server = Server::with_config(DpopConfig {
        replay_capacity: 100,
        ..DpopConfig::default()
    });
    let forge = Forge::es256();
    let proof = forge.sign();
    server.resource(&proof, &forge.jkt()).unwrap();
    assert_eq!(server.verifier.replay_cache().len(), 1);

    server.clock.advance(60);
    assert_eq!(
        server.resource(&proof, &forge.jkt()),
        Err(DpopError::Replayed)
    );

    server.clock.advance(1);
    assert_eq!(
        server.resource(&proof, &forge.jkt()),
        Err(DpopError::IatTooOld {
            iat: NOW,
            now: NOW + 61,
            max_age: 60
        })
    );
    // The next accepted proof sweeps the expired entry away.
    let fresh = Forge::es256().claim("iat", json!(NOW + 61));
    server.resource(&fresh.sign(), &fresh.jkt()).unwrap();
    assert_eq!(server.verifier.replay_cache().len(), 1);
}

#[test]
fn one_clients_jti_does_not_block_another_client() {
    let server = Server::new();
    let first = Forge::es256().claim("jti", json!("same-jti"));
    let second = Forge::es256().claim("jti", json!("same-jti"));
    server.resource(&first.sign(), &first.jkt()).unwrap();
    server.resource(&second.sign(), &second.jkt()).unwrap();
}

#[test]
fn concurrent_replays_let_exactly_one_through() {
    let server = Arc::new(Server::new());
    let forge = Forge::es256();
    let proof = Arc::new(forge.sign());
    let jkt = Arc::new(forge.jkt());
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (server, proof, jkt) = (server.clone(), proof.clone(), jkt.clone());
            std::thread::spawn(move || server.resource(&proof, &jkt))
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| *e == DpopError::Replayed)
    );
}

#[test]
fn a_full_cache_refuses_new_proofs_until_entries_expire() {
    let server = Server::with_config(DpopConfig {
        replay_capacity: 2,
        ..DpopConfig::default()
    });
    let older = Forge::es256().claim("iat", json!(NOW - 30));
    let newer = Forge::es256();
    server.resource(&older.sign(), &older.jkt()).unwrap();
    server.resource(&newer.sign(), &newer.jkt()).unwrap();

    // Fail closed: a valid proof that cannot be recorded is refused, and nothing live is
    // evicted to make room.
    let third = Forge::es256();
    let err = server.resource(&third.sign(), &third.jkt()).unwrap_err();
    assert_eq!(err, DpopError::ReplayCacheFull);
    assert_eq!(err.error_code(), "invalid_dpop_proof");
    assert_eq!(
        server.resource(&newer.sign(), &newer.jkt()),
        Err(DpopError::Replayed)
    );

    // Once the older proof has left the window, its slot is free again.
    server.clock.advance(31);
    let fourth = Forge::es256().claim("iat", json!(NOW + 31));
    server.resource(&fourth.sign(), &fourth.jkt()).unwrap();
    assert_eq!(
        server.resource(&newer.sign(), &newer.jkt()),
        Err(DpopError::Replayed)
    );
}

#[test]
fn refused_proofs_take_no_cache_slot() {
    let server = Server::with_config(DpopConfig {
        replay_capacity: 1,
        ..DpopConfig::default()
    });
    for _ in 0..5 {
        let bad = Forge::es256().claim("ath", json!(access_token_hash("wrong")));
        assert_eq!(
            server.resource(&bad.sign(), &bad.jkt()),
            Err(DpopError::AthMismatch)
        );
    }
    assert!(server.verifier.replay_cache().is_empty());
    // And a refused proof's jti is not burnt: corrected, the same jti goes through.
    let wrong = Forge::es256().claim("htm", json!("GET"));
    assert!(matches!(
        server.resource(&wrong.sign(), &wrong.jkt()),
        Err(DpopError::HtmMismatch { .. })
    ));
    let right = wrong.claim("htm", json!("POST"));
    server.resource(&right.sign(), &right.jkt()).unwrap();
}
