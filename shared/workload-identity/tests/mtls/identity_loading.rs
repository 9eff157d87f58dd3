//! `FileSource`: loading, refusing broken material while keeping the current identity, and
//! reloading on change.

use std::fs;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dev_pki::LeafSpec;
use workload_identity::workloads::{AGENT_A, AGENT_B};
use workload_identity::{
    BundleError, FileSource, IdentityError, IdentitySource, LoadError, Reload, SvidError,
};

use crate::support::pki::{HOUR, TestPki};

#[test]
fn loads_the_dev_pki_files() {
    let pki = TestPki::new();
    let source = pki.source(AGENT_B);
    let identity = source.current();
    assert_eq!(identity.spiffe_id(), &pki.id(AGENT_B));
    assert_eq!(identity.bundle().trust_domain(), &pki.trust_domain);
    let on_disk = fs::read(&pki.files(AGENT_B).svid).unwrap();
    assert!(
        String::from_utf8(on_disk)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert_eq!(source.reload_now().unwrap(), Reload::Unchanged);
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let pki = TestPki::new();
    let files = pki.files(AGENT_B);
    fs::remove_file(&files.key).unwrap();
    match FileSource::load(files.clone()) {
        Err(LoadError::Read(error)) => assert_eq!(error.path, files.key),
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn a_key_of_another_svid_is_refused() {
    let pki = TestPki::new();
    let files = pki.files(AGENT_B);
    fs::copy(pki.files(AGENT_A).key, &files.key).unwrap();
    assert!(matches!(
        FileSource::load(files),
        Err(LoadError::Identity(IdentityError::KeyMismatch))
    ));
}

#[test]
fn an_expired_svid_on_disk_is_refused() {
    let pki = TestPki::new();
    let now = SystemTime::now();
    let expired = pki.issue(&LeafSpec {
        not_before: now - 2 * HOUR,
        not_after: now - HOUR,
        ..pki.spec(&pki.id(AGENT_B))
    });
    let files = pki.files(AGENT_B);
    expired.write_to(files.svid.parent().unwrap()).unwrap();
    assert!(matches!(
        FileSource::load(files),
        Err(LoadError::Identity(IdentityError::Svid(
            SvidError::Expired { .. }
        )))
    ));
}

#[test]
fn a_bundle_holding_a_leaf_is_refused() {
    let pki = TestPki::new();
    let files = pki.files(AGENT_B);
    fs::copy(pki.files(AGENT_A).svid, &files.bundle).unwrap();
    assert!(matches!(
        FileSource::load(files),
        Err(LoadError::Identity(IdentityError::Bundle(
            BundleError::NotACa { index: 0 }
        )))
    ));
}

#[test]
fn a_file_without_a_key_is_refused() {
    let pki = TestPki::new();
    let files = pki.files(AGENT_B);
    fs::copy(&files.svid, &files.key).unwrap();
    assert!(matches!(
        FileSource::load(files),
        Err(LoadError::Identity(IdentityError::NoPrivateKey))
    ));
}

#[test]
fn pem_that_does_not_decode_is_refused() {
    let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let pki = TestPki::new();
    let files = pki.files(AGENT_B);
    fs::write(&files.svid, broken).unwrap();
    assert!(matches!(
        FileSource::load(files),
        Err(LoadError::Identity(IdentityError::SvidPem(_)))
    ));

    let pki = TestPki::new();
    let files = pki.files(AGENT_B);
    fs::write(&files.key, broken.replace("CERTIFICATE", "PRIVATE KEY")).unwrap();
    assert!(matches!(
        FileSource::load(files),
        Err(LoadError::Identity(IdentityError::KeyPem(_)))
    ));
}

#[test]
fn a_key_that_cannot_sign_is_refused() {
    let pki = TestPki::new();
    let files = pki.files(AGENT_B);
    // Well-formed PEM around bytes that are no PKCS#8 key.
    fs::write(
        &files.key,
        "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    assert!(matches!(
        FileSource::load(files),
        Err(LoadError::Identity(IdentityError::UnusableKey(_)))
    ));
}

#[test]
fn a_broken_file_keeps_the_current_identity() {
    let pki = TestPki::new();
    let source = pki.source(AGENT_B);
    let before = source.current();
    fs::write(&source.files().svid, "half a certificate").unwrap();
    assert!(matches!(
        source.reload_now(),
        Err(LoadError::Identity(IdentityError::NoCertificate))
    ));
    assert!(Arc::ptr_eq(&before, &source.current()));
}

#[test]
fn a_different_spiffe_id_is_not_swapped_in() {
    let pki = TestPki::new();
    let source = pki.source(AGENT_B);
    let before = source.current();
    let files = source.files();
    fs::copy(pki.files(AGENT_A).svid, &files.svid).unwrap();
    fs::copy(pki.files(AGENT_A).key, &files.key).unwrap();
    match source.reload_now() {
        Err(LoadError::SpiffeIdChanged { current, new }) => {
            assert_eq!(current, pki.id(AGENT_B));
            assert_eq!(new, pki.id(AGENT_A));
        }
        other => panic!("expected SpiffeIdChanged, got {other:?}"),
    }
    assert!(Arc::ptr_eq(&before, &source.current()));
}

#[tokio::test]
async fn the_reloader_picks_up_rotated_files() {
    let pki = TestPki::new();
    let source = pki.source(AGENT_B);
    let old_leaf = source.current().leaf().clone();
    let mut rotations = source.subscribe();
    let reloader = source.spawn_reloader(Duration::from_millis(20));

    pki.renew_svids();
    // Waits for the notification, not for time: the timeout only bounds a failure.
    tokio::time::timeout(Duration::from_secs(10), rotations.changed())
        .await
        .expect("no rotation noticed")
        .unwrap();
    let new_leaf = source.current().leaf().clone();
    assert_ne!(new_leaf, old_leaf);
    assert_eq!(new_leaf, pki.leaf(AGENT_B));

    // The task ends once nothing uses the source any more.
    drop(rotations);
    drop(source);
    tokio::time::timeout(Duration::from_secs(10), reloader)
        .await
        .expect("the reloader outlived its source")
        .unwrap();
}
