//! `validate_svid` directly, with an injected verification time: every rejection path of
//! X509-SVID.md §5 with its exact error.

use std::time::Duration;

use dev_pki::{KeyUsagePurpose, LeafSpec};
use rustls_pki_types::{CertificateDer, UnixTime};
use workload_identity::workloads::{AGENT_B, DEV_TRUST_DOMAIN};
use workload_identity::{
    KeyUsageFault, PeerRole, SpiffeId, SpiffeIdError, SvidError, TrustDomain, validate_svid,
};

use crate::support::pki::{TestPki, now, other_ca};

fn validate(pki: &TestPki, spec: &LeafSpec) -> Result<SpiffeId, SvidError> {
    let svid = pki.issue(spec);
    validate_svid(svid.cert_der(), &[], &pki.bundle(), PeerRole::Client, now())
        .map(|valid| valid.spiffe_id().clone())
}

fn at(seconds: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(seconds))
}

#[test]
fn a_conforming_svid_is_accepted_in_both_roles() {
    let pki = TestPki::new();
    let id = pki.id(AGENT_B);
    let svid = pki.issue(&pki.spec(&id));
    for role in [PeerRole::Client, PeerRole::Server] {
        let valid = validate_svid(svid.cert_der(), &[], &pki.bundle(), role, now()).unwrap();
        assert_eq!(valid.spiffe_id(), &id);
        assert!(valid.not_before() < valid.not_after());
    }
}

#[test]
fn the_dev_pki_svids_are_accepted() {
    let pki = TestPki::new();
    for workload in workload_identity::workloads::ALL {
        let leaf = pki.leaf(workload);
        let valid = validate_svid(&leaf, &[], &pki.bundle(), PeerRole::Server, now()).unwrap();
        assert_eq!(valid.spiffe_id(), &pki.id(workload));
    }
}

#[test]
fn no_uri_san() {
    let pki = TestPki::new();
    let spec = LeafSpec {
        uri_sans: Vec::new(),
        ..pki.spec(&pki.id(AGENT_B))
    };
    assert_eq!(validate(&pki, &spec), Err(SvidError::NoUriSan));
}

#[test]
fn two_uri_sans() {
    let pki = TestPki::new();
    let id = pki.id(AGENT_B);
    let spec = LeafSpec {
        uri_sans: vec![
            id.to_string(),
            "spiffe://demo.test/ns/namespace-a/sa/agent-a".to_owned(),
        ],
        ..pki.spec(&id)
    };
    assert_eq!(
        validate(&pki, &spec),
        Err(SvidError::MultipleUriSans { count: 2 })
    );
}

#[test]
fn uri_san_that_is_not_a_spiffe_id() {
    let pki = TestPki::new();
    let id = pki.id(AGENT_B);
    for (uri, reason) in [
        (
            "https://demo.test/ns/namespace-b/sa/agent-b",
            SpiffeIdError::WrongScheme,
        ),
        (
            "spiffe://Demo.test/ns/namespace-b/sa/agent-b",
            SpiffeIdError::BadTrustDomainChar { found: 'D' },
        ),
        (
            "spiffe://demo.test/ns/namespace-b/sa/../agent-a",
            SpiffeIdError::DotSegment,
        ),
    ] {
        let spec = LeafSpec {
            uri_sans: vec![uri.to_owned()],
            ..pki.spec(&id)
        };
        assert_eq!(
            validate(&pki, &spec),
            Err(SvidError::InvalidSpiffeId(reason)),
            "{uri}"
        );
    }
}

#[test]
fn a_leaf_with_the_trust_domain_id() {
    let pki = TestPki::new();
    let root_id = pki.trust_domain.spiffe_id();
    assert_eq!(
        validate(&pki, &pki.spec(&root_id)),
        Err(SvidError::MissingPath { id: root_id })
    );
}

#[test]
fn an_id_of_another_trust_domain_even_when_signed_by_the_trusted_ca() {
    let pki = TestPki::new();
    let other = TrustDomain::new("other.test").unwrap();
    let id = AGENT_B.spiffe_id(&other);
    assert_eq!(
        validate(&pki, &pki.spec(&id)),
        Err(SvidError::WrongTrustDomain {
            expected: TrustDomain::new(DEV_TRUST_DOMAIN).unwrap(),
            found: other,
        })
    );
}

#[test]
fn a_ca_certificate() {
    let pki = TestPki::new();
    let spec = LeafSpec {
        is_ca: true,
        key_usages: vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ],
        ..pki.spec(&pki.id(AGENT_B))
    };
    assert_eq!(validate(&pki, &spec), Err(SvidError::LeafIsCa));
}

#[test]
fn key_usage_faults() {
    let pki = TestPki::new();
    let id = pki.id(AGENT_B);
    for (usages, fault) in [
        (Vec::new(), KeyUsageFault::Missing),
        (
            vec![KeyUsagePurpose::KeyEncipherment],
            KeyUsageFault::NoDigitalSignature,
        ),
        (
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyCertSign,
            ],
            KeyUsageFault::KeyCertSign,
        ),
        (
            vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign],
            KeyUsageFault::CrlSign,
        ),
    ] {
        let spec = LeafSpec {
            key_usages: usages,
            ..pki.spec(&id)
        };
        assert_eq!(
            validate(&pki, &spec),
            Err(SvidError::BadKeyUsage(fault)),
            "{fault:?}"
        );
    }
}

#[test]
fn validity_window_against_the_injected_time() {
    let pki = TestPki::new();
    let svid = pki.issue(&pki.spec(&pki.id(AGENT_B)));
    let bundle = pki.bundle();
    let valid = validate_svid(svid.cert_der(), &[], &bundle, PeerRole::Client, now()).unwrap();
    let (not_before, not_after) = (valid.not_before().as_secs(), valid.not_after().as_secs());
    let check = |time| validate_svid(svid.cert_der(), &[], &bundle, PeerRole::Client, time);

    // Both bounds are inclusive.
    assert!(check(at(not_before)).is_ok());
    assert!(check(at(not_after)).is_ok());
    assert_eq!(
        check(at(not_after + 1)),
        Err(SvidError::Expired {
            not_after: not_after.try_into().unwrap(),
            now: not_after + 1,
        })
    );
    assert_eq!(
        check(at(not_before - 1)),
        Err(SvidError::NotYetValid {
            not_before: not_before.try_into().unwrap(),
            now: not_before - 1,
        })
    );
}

#[test]
fn a_certificate_from_another_ca() {
    let pki = TestPki::new();
    let id = pki.id(AGENT_B);
    // Same CA name (same trust domain), other key: found by name, refused by signature.
    let impostor = other_ca(&pki.trust_domain);
    let svid = impostor.issue(&pki.spec(&id)).unwrap();
    assert_eq!(
        validate_svid(svid.cert_der(), &[], &pki.bundle(), PeerRole::Client, now()),
        Err(SvidError::UntrustedChain(
            webpki::Error::InvalidSignatureForPublicKey
        ))
    );
    // A CA of another name is not even a candidate issuer.
    let stranger = other_ca(&TrustDomain::new("stranger.test").unwrap());
    let svid = stranger.issue(&pki.spec(&id)).unwrap();
    assert_eq!(
        validate_svid(svid.cert_der(), &[], &pki.bundle(), PeerRole::Client, now()),
        Err(SvidError::UntrustedChain(webpki::Error::UnknownIssuer))
    );
}

#[test]
fn bytes_that_are_not_a_certificate() {
    let pki = TestPki::new();
    let garbage = CertificateDer::from(b"not a certificate".to_vec());
    assert!(matches!(
        validate_svid(&garbage, &[], &pki.bundle(), PeerRole::Client, now()),
        Err(SvidError::Malformed(_))
    ));

    let svid = pki.issue(&pki.spec(&pki.id(AGENT_B)));
    let mut trailing = svid.cert_der().to_vec();
    trailing.push(0);
    assert_eq!(
        validate_svid(
            &CertificateDer::from(trailing),
            &[],
            &pki.bundle(),
            PeerRole::Client,
            now()
        ),
        Err(SvidError::Malformed(
            "1 bytes after the certificate".to_owned()
        ))
    );
}
