//! What the issued certificates contain, and that workloads accept them.

use std::fs;
use std::time::{Duration, SystemTime};

use dev_pki::{Ca, KeyUsagePurpose, LeafSpec};
use rustls_pki_types::{CertificateDer, UnixTime};
use workload_identity::workloads;
use workload_identity::{
    BUNDLE_FILE, FileSource, IdentityFiles, IdentitySource, PeerRole, SvidError, TrustBundle,
    TrustDomain, validate_svid,
};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::support::{HOUR, demo, fresh};

fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(pem)
        .map(|pem| pem.unwrap().contents)
        .collect()
}

#[test]
fn every_svid_loads_as_a_workload_identity() {
    let (dir, _, _) = fresh();
    for workload in workloads::ALL {
        let source =
            FileSource::load(IdentityFiles::in_pki_dir(dir.path(), workload.name())).unwrap();
        assert_eq!(source.current().spiffe_id(), &workload.spiffe_id(&demo()));
    }
}

#[test]
fn svids_are_conforming_x509_svids() {
    let (dir, now, _) = fresh();
    for workload in workloads::ALL {
        let files = IdentityFiles::in_pki_dir(dir.path(), workload.name());
        let chain = pem_certificates(&fs::read(files.svid).unwrap());
        assert_eq!(chain.len(), 1, "the leaf, no intermediates, never the root");
        let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();

        let san = leaf.subject_alternative_name().unwrap().unwrap();
        let uris: Vec<_> = san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::URI(uri) => Some(*uri),
                _ => None,
            })
            .collect();
        assert_eq!(uris, [workload.spiffe_id(&demo()).as_str()]);
        // No subject, so the SAN extension must be critical (RFC 5280 §4.2.1.6).
        assert!(leaf.subject().iter_attributes().next().is_none());
        assert!(san.critical);

        let constraints = leaf.basic_constraints().unwrap().unwrap();
        assert!(!constraints.value.ca);
        let key_usage = leaf.key_usage().unwrap().unwrap();
        assert!(key_usage.critical);
        assert!(key_usage.value.digital_signature());
        assert!(!key_usage.value.key_cert_sign() && !key_usage.value.crl_sign());
        let eku = leaf.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && eku.client_auth);

        assert_eq!(
            leaf.public_key().algorithm.algorithm,
            x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY
        );
        let lifetime =
            leaf.validity().not_after.timestamp() - leaf.validity().not_before.timestamp();
        // 24 hours plus the minute of backdating.
        assert_eq!(lifetime, 24 * 3600 + 60);
        let not_after = leaf.validity().not_after.timestamp();
        let expected = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 24 * 3600;
        assert_eq!(u64::try_from(not_after).unwrap(), expected);
    }
}

#[test]
fn the_ca_is_a_path_length_zero_signing_certificate_of_the_trust_domain() {
    let (dir, _, _) = fresh();
    let bundle = pem_certificates(&fs::read(dir.path().join(BUNDLE_FILE)).unwrap());
    assert_eq!(bundle.len(), 1);
    let (_, ca) = X509Certificate::from_der(&bundle[0]).unwrap();
    let constraints = ca.basic_constraints().unwrap().unwrap().value;
    assert!(constraints.ca);
    assert_eq!(constraints.path_len_constraint, Some(0));
    let key_usage = ca.key_usage().unwrap().unwrap().value;
    assert!(key_usage.key_cert_sign() && key_usage.crl_sign() && !key_usage.digital_signature());
    let san = ca.subject_alternative_name().unwrap().unwrap();
    assert!(matches!(
        san.value.general_names.as_slice(),
        [GeneralName::URI("spiffe://demo.test")]
    ));
    assert!(ca.name_constraints().unwrap().is_none());
}

#[test]
fn test_helpers_make_the_non_conforming_certificates_they_describe() {
    let trust_domain = demo();
    let now = SystemTime::now();
    let ca = Ca::generate(&trust_domain, now, 24 * HOUR).unwrap();
    let bundle = TrustBundle::new(trust_domain.clone(), vec![ca.cert_der().clone()]).unwrap();
    let id = workloads::AGENT_B.spiffe_id(&trust_domain);
    let check = |spec: &LeafSpec| {
        let svid = ca.issue(spec).unwrap();
        validate_svid(
            svid.cert_der(),
            &[],
            &bundle,
            PeerRole::Client,
            UnixTime::now(),
        )
    };

    assert!(check(&LeafSpec::svid(&id, now, HOUR)).is_ok());
    assert!(matches!(
        check(&LeafSpec {
            not_before: now - 2 * HOUR,
            not_after: now - HOUR,
            ..LeafSpec::svid(&id, now, HOUR)
        }),
        Err(SvidError::Expired { .. })
    ));
    assert_eq!(
        check(&LeafSpec {
            is_ca: true,
            ..LeafSpec::svid(&id, now, HOUR)
        }),
        Err(SvidError::LeafIsCa)
    );
    assert_eq!(
        check(&LeafSpec {
            uri_sans: vec![id.to_string(), id.to_string()],
            ..LeafSpec::svid(&id, now, HOUR)
        }),
        Err(SvidError::MultipleUriSans { count: 2 })
    );
    assert!(matches!(
        check(&LeafSpec {
            key_usages: vec![KeyUsagePurpose::KeyEncipherment],
            ..LeafSpec::svid(&id, now, HOUR)
        }),
        Err(SvidError::BadKeyUsage(_))
    ));
    let other = TrustDomain::new("other.test").unwrap();
    assert!(matches!(
        check(&LeafSpec::svid(
            &workloads::AGENT_B.spiffe_id(&other),
            now,
            HOUR
        )),
        Err(SvidError::WrongTrustDomain { .. })
    ));

    let unrelated = Ca::generate(&TrustDomain::new("unrelated.test").unwrap(), now, HOUR).unwrap();
    let svid = unrelated.issue(&LeafSpec::svid(&id, now, HOUR)).unwrap();
    assert!(matches!(
        validate_svid(
            svid.cert_der(),
            &[],
            &bundle,
            PeerRole::Client,
            UnixTime::now()
        ),
        Err(SvidError::UntrustedChain(_))
    ));
}

#[test]
fn a_loaded_ca_issues_svids_that_chain_like_the_original() {
    let (dir, now, _) = fresh();
    let ca = Ca::from_pem(
        &demo(),
        &fs::read_to_string(dir.path().join(BUNDLE_FILE)).unwrap(),
        &fs::read_to_string(dir.path().join(dev_pki::CA_KEY_FILE)).unwrap(),
    )
    .unwrap();
    let bundle = TrustBundle::new(demo(), vec![ca.cert_der().clone()]).unwrap();
    let id = workloads::AGENT_A.spiffe_id(&demo());
    let svid = ca
        .issue(&LeafSpec::svid(&id, now, Duration::from_secs(60)))
        .unwrap();
    let der = CertificateDer::from(svid.cert_der().to_vec());
    assert!(validate_svid(&der, &[], &bundle, PeerRole::Server, UnixTime::now()).is_ok());
}
