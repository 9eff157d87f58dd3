//! Proofs made by `DpopKey` pass the verifier, in the flows this system uses them in.

use http::Method;
use tokens::dpop::{DpopConfig, Htu, NonceSource};
use tokens::{Algorithm, DpopError, DpopKey, DpopVerifier, ManualClock, SigningKey};

use crate::helpers::NOW;

#[test]
fn client_proofs_verify_at_a_token_endpoint_and_a_resource() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let clock = ManualClock::new(NOW);
        let client = DpopKey::generate_with(alg, clock.clone()).unwrap();
        let verifier = DpopVerifier::new(DpopConfig::default(), clock.clone()).unwrap();

        let token_endpoint = Htu::parse("https://idp.example:9000/token").unwrap();
        let proof = client
            .proof(&Method::POST, &token_endpoint, None, None)
            .unwrap();
        let verified = verifier
            .verify(&proof, &Method::POST, &token_endpoint, None, None)
            .unwrap();
        // What the token endpoint binds the token to is what the client expects.
        assert_eq!(verified.jkt(), client.jkt());

        // The client's request URL has a query; its proof's `htu` does not.
        let request = Htu::parse("https://agent-b.example/v1/chat?lang=en").unwrap();
        let proof = client
            .proof(&Method::POST, &request, Some("access-token"), None)
            .unwrap();
        let route = Htu::parse("https://agent-b.example/v1/chat").unwrap();
        verifier
            .verify(
                &proof,
                &Method::POST,
                &route,
                Some("access-token"),
                Some(client.jkt()),
            )
            .unwrap();
    }
}

#[test]
fn the_nonce_dance() {
    let clock = ManualClock::new(NOW);
    let client = DpopKey::generate(clock.clone()).unwrap();
    let verifier = DpopVerifier::new(DpopConfig::default(), clock.clone())
        .unwrap()
        .require_nonces(NonceSource::generate(300).unwrap());
    let htu = Htu::parse("https://idp.example/token").unwrap();

    let first = client.proof(&Method::POST, &htu, None, None).unwrap();
    let err = verifier
        .verify(&first, &Method::POST, &htu, None, None)
        .unwrap_err();
    let nonce = err.fresh_nonce().unwrap().to_owned();

    let retry = client
        .proof(&Method::POST, &htu, None, Some(&nonce))
        .unwrap();
    verifier
        .verify(&retry, &Method::POST, &htu, None, None)
        .unwrap();
}

#[test]
fn a_stored_key_keeps_its_thumbprint() {
    let clock = ManualClock::new(NOW);
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let der = key.pkcs8_der().to_vec();
    let before = DpopKey::new(key, clock.clone());
    let after = DpopKey::new(
        SigningKey::from_pkcs8(Algorithm::Es256, &der, None).unwrap(),
        clock.clone(),
    );
    assert_eq!(before.jkt(), after.jkt());
    // A proof from the reloaded key satisfies a token bound to the original.
    let htu = Htu::parse("https://agent-b.example/v1/chat").unwrap();
    let verifier = DpopVerifier::new(DpopConfig::default(), clock).unwrap();
    let proof = after.proof(&Method::POST, &htu, Some("t"), None).unwrap();
    verifier
        .verify(&proof, &Method::POST, &htu, Some("t"), Some(before.jkt()))
        .unwrap();
    // And a different key does not.
    let stranger = DpopKey::generate(ManualClock::new(NOW)).unwrap();
    let proof = stranger
        .proof(&Method::POST, &htu, Some("t"), None)
        .unwrap();
    assert!(matches!(
        verifier.verify(&proof, &Method::POST, &htu, Some("t"), Some(before.jkt())),
        Err(DpopError::JktMismatch { .. })
    ));
}
