//! Certificates a hostile or misconfigured issuer could produce, beyond what `LeafSpec` can
//! express: SAN mixes, extended key usages, intermediates, and leaves used as issuers.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls_pki_types::CertificateDer;
use workload_identity::{
    PeerRole, SpiffeId, SpiffeIdError, SvidError, TrustBundle, TrustDomain, validate_svid,
};

use crate::support::pki::now;

const TD: &str = "demo.test";
const ID: &str = "spiffe://demo.test/ns/namespace-b/sa/agent-b";

fn san(uri: &str) -> SanType {
    SanType::URI(uri.try_into().unwrap())
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.subject_alt_names = vec![san(&format!("spiffe://{TD}"))];
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// A conforming SVID's parameters; tests change one thing.
fn leaf_params(sans: Vec<SanType>) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    params
}

struct Root {
    issuer: Issuer<'static, KeyPair>,
    bundle: TrustBundle,
}

fn root() -> Root {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let params = ca_params("root");
    let cert = params.self_signed(&key).unwrap();
    let bundle = TrustBundle::new(TrustDomain::new(TD).unwrap(), vec![cert.der().clone()]).unwrap();
    Root {
        issuer: Issuer::new(params, key),
        bundle,
    }
}

fn sign(params: &CertificateParams, issuer: &Issuer<'_, KeyPair>) -> CertificateDer<'static> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    params.signed_by(&key, issuer).unwrap().der().clone()
}

fn check(
    root: &Root,
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    role: PeerRole,
) -> Result<SpiffeId, SvidError> {
    validate_svid(leaf, intermediates, &root.bundle, role, now()).map(|v| v.spiffe_id().clone())
}

#[test]
fn dns_and_email_sans_beside_the_uri_san_do_not_change_the_identity() {
    let root = root();
    // A dNSName and an rfc822Name spelled like another workload's SPIFFE ID are not URI SANs.
    let leaf = sign(
        &leaf_params(vec![
            SanType::DnsName("agent-a.namespace-a.svc".try_into().unwrap()),
            SanType::DnsName(
                "spiffe://demo.test/ns/namespace-a/sa/agent-a"
                    .try_into()
                    .unwrap(),
            ),
            SanType::Rfc822Name(
                "spiffe://demo.test/ns/internal/sa/internal-iam"
                    .try_into()
                    .unwrap(),
            ),
            san(ID),
        ]),
        &root.issuer,
    );
    for role in [PeerRole::Client, PeerRole::Server] {
        assert_eq!(
            check(&root, &leaf, &[], role),
            Ok(SpiffeId::parse(ID).unwrap())
        );
    }
}

#[test]
fn a_second_uri_san_of_any_scheme_is_refused() {
    let root = root();
    for other in ["https://agent-a.example/", "urn:x:y", ID] {
        let leaf = sign(&leaf_params(vec![san(other), san(ID)]), &root.issuer);
        assert_eq!(
            check(&root, &leaf, &[], PeerRole::Client),
            Err(SvidError::MultipleUriSans { count: 2 }),
            "{other}"
        );
    }
}

#[test]
fn uri_sans_that_are_almost_spiffe_ids_are_refused() {
    let root = root();
    for (uri, expected) in [
        (
            "spiffe://demo.test/ns/namespace-b/sa/agent-b%2Fx",
            SpiffeIdError::PercentEncoded,
        ),
        (
            "spiffe://demo.test/ns/namespace-b/sa/agent-b/",
            SpiffeIdError::TrailingSlash,
        ),
        (
            "spiffe://demo.test/ns/namespace-b/sa/../sa/agent-b",
            SpiffeIdError::DotSegment,
        ),
        (
            "SPIFFE://demo.test/ns/namespace-b/sa/agent-b",
            SpiffeIdError::WrongScheme,
        ),
        (
            "spiffe://Demo.test/ns/namespace-b/sa/agent-b",
            SpiffeIdError::BadTrustDomainChar { found: 'D' },
        ),
        (
            "spiffe://agent@demo.test/ns/namespace-b/sa/agent-b",
            SpiffeIdError::HasUserInfo,
        ),
        (
            "spiffe://demo.test:443/ns/namespace-b/sa/agent-b",
            SpiffeIdError::HasPort,
        ),
        (
            "spiffe://demo.test/ns/namespace-b/sa/agent-b\u{0}",
            SpiffeIdError::BadPathChar { found: '\u{0}' },
        ),
        (
            "spiffe://demo.test/ns/namespace-b/sa/agent-b?x",
            SpiffeIdError::HasQuery,
        ),
        (
            " spiffe://demo.test/ns/namespace-b/sa/agent-b",
            SpiffeIdError::WrongScheme,
        ),
    ] {
        let leaf = sign(&leaf_params(vec![san(uri)]), &root.issuer);
        assert_eq!(
            check(&root, &leaf, &[], PeerRole::Client),
            Err(SvidError::InvalidSpiffeId(expected)),
            "{uri:?}"
        );
    }
}

#[test]
fn extended_key_usage_must_allow_the_role_when_present() {
    let root = root();
    let with_ekus = |ekus: Vec<ExtendedKeyUsagePurpose>| {
        let mut params = leaf_params(vec![san(ID)]);
        params.extended_key_usages = ekus;
        sign(&params, &root.issuer)
    };
    let server_only = with_ekus(vec![ExtendedKeyUsagePurpose::ServerAuth]);
    assert!(matches!(
        check(&root, &server_only, &[], PeerRole::Client),
        Err(SvidError::UntrustedChain(_))
    ));
    assert!(check(&root, &server_only, &[], PeerRole::Server).is_ok());
    let client_only = with_ekus(vec![ExtendedKeyUsagePurpose::ClientAuth]);
    assert!(matches!(
        check(&root, &client_only, &[], PeerRole::Server),
        Err(SvidError::UntrustedChain(_))
    ));
    let code_signing = with_ekus(vec![ExtendedKeyUsagePurpose::CodeSigning]);
    for role in [PeerRole::Client, PeerRole::Server] {
        assert!(matches!(
            check(&root, &code_signing, &[], role),
            Err(SvidError::UntrustedChain(_))
        ));
    }
    // X509-SVID.md §4.4 makes the extension optional; without it, both roles are allowed.
    let none = with_ekus(Vec::new());
    for role in [PeerRole::Client, PeerRole::Server] {
        assert!(check(&root, &none, &[], role).is_ok());
    }
}

#[test]
fn intermediates_must_be_presented_and_must_be_cas() {
    let root = root();
    let intermediate_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let intermediate_params = ca_params("intermediate");
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &root.issuer)
        .unwrap()
        .der()
        .clone();
    let intermediate_issuer = Issuer::new(intermediate_params, intermediate_key);
    let leaf = sign(&leaf_params(vec![san(ID)]), &intermediate_issuer);
    assert_eq!(
        check(
            &root,
            &leaf,
            std::slice::from_ref(&intermediate),
            PeerRole::Client
        ),
        Ok(SpiffeId::parse(ID).unwrap())
    );
    assert_eq!(
        check(&root, &leaf, &[], PeerRole::Client),
        Err(SvidError::UntrustedChain(webpki::Error::UnknownIssuer))
    );

    // A workload's own SVID (a leaf, cA=false) signing another "SVID": a compromised workload
    // minting identities. The chain builder must not treat it as an issuer.
    let workload_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut workload_params =
        leaf_params(vec![san("spiffe://demo.test/ns/namespace-a/sa/agent-a")]);
    workload_params.distinguished_name = DistinguishedName::new();
    workload_params
        .distinguished_name
        .push(DnType::CommonName, "agent-a");
    let workload = workload_params
        .signed_by(&workload_key, &root.issuer)
        .unwrap()
        .der()
        .clone();
    let minted = sign(
        &leaf_params(vec![san(ID)]),
        &Issuer::new(workload_params, workload_key),
    );
    assert!(matches!(
        check(&root, &minted, &[workload], PeerRole::Client),
        Err(SvidError::UntrustedChain(_))
    ));
}
