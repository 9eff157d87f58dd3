//! The trust domain's certificate authority: a self-signed ECDSA P-256 root that signs SVIDs.

use std::fmt;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls_pki_types::CertificateDer;
use workload_identity::TrustDomain;

use crate::dates::{self, BACKDATE};
use crate::error::PkiError;
use crate::leaf::{IssuedSvid, LeafSpec};

/// A certificate authority that can issue SVIDs for its trust domain.
pub struct Ca {
    trust_domain: TrustDomain,
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl Ca {
    /// A new CA with a new key, valid from just before `now` for `lifetime`. Also the way to make
    /// an unrelated CA for negative tests.
    pub fn generate(
        trust_domain: &TrustDomain,
        now: SystemTime,
        lifetime: Duration,
    ) -> Result<Self, PkiError> {
        let not_before = now.checked_sub(BACKDATE).unwrap_or(now);
        let not_after = now.checked_add(lifetime).unwrap_or(now);
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "dev-pki");
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{trust_domain} development CA"));
        // X509-SVID.md §3.2: a signing certificate should be an SVID itself, carrying the trust
        // domain's ID (no path).
        params.subject_alt_names = vec![SanType::URI(
            trust_domain.spiffe_id().to_string().try_into()?,
        )];
        // It signs leaves only, never further CAs.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        // No URI name constraint to `spiffe://<trust domain>`: rustls-webpki does not implement
        // URI constraints and fails closed on them, so every SVID would be refused. The trust
        // domain check of each SVID's SPIFFE ID against the bundle does that job instead.
        params.name_constraints = None;
        params.not_before = dates::to_offset(not_before, "CA start")?;
        params.not_after = dates::to_offset(not_after, "CA expiry")?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let certificate = params.self_signed(&key)?;
        Ok(Self {
            trust_domain: trust_domain.clone(),
            cert_der: certificate.der().clone(),
            cert_pem: certificate.pem(),
            issuer: Issuer::new(params, key),
            not_before,
            not_after,
        })
    }

    /// The CA in `cert_pem` (its first certificate) with the key in `key_pem`, provided the
    /// certificate is a CA of `trust_domain` and the key is its key.
    pub fn from_pem(
        trust_domain: &TrustDomain,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<Self, PkiError> {
        let unusable = |reason: &str| PkiError::UnusableCa(reason.to_owned());
        let pem = x509_parser::pem::Pem::iter_from_buffer(cert_pem.as_bytes())
            .next()
            .ok_or_else(|| unusable("no certificate in the bundle"))?
            .map_err(|error| unusable(&format!("bundle is not PEM: {error}")))?;
        let certificate = pem
            .parse_x509()
            .map_err(|error| unusable(&format!("bundle certificate: {error}")))?;
        if !certificate.is_ca() {
            return Err(unusable("the bundle certificate is not a CA"));
        }
        let expected_uri = trust_domain.spiffe_id().to_string();
        let names_trust_domain = certificate
            .subject_alternative_name()
            .ok()
            .flatten()
            .is_some_and(|san| {
                san.value.general_names.iter().any(|name| {
                    matches!(name, x509_parser::extensions::GeneralName::URI(uri) if *uri == expected_uri)
                })
            });
        if !names_trust_domain {
            return Err(unusable(&format!("the CA is not for {expected_uri}")));
        }
        let key =
            KeyPair::from_pem(key_pem).map_err(|error| unusable(&format!("CA key: {error}")))?;
        if key.public_key_raw() != certificate.public_key().subject_public_key.data.as_ref() {
            return Err(unusable("the CA key does not belong to the CA certificate"));
        }
        let validity = certificate.validity();
        let not_before = dates::from_unix(validity.not_before.timestamp());
        let not_after = dates::from_unix(validity.not_after.timestamp());
        let cert_der = CertificateDer::from(pem.contents.clone());
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)?;
        Ok(Self {
            trust_domain: trust_domain.clone(),
            issuer,
            cert_pem: cert_pem.to_owned(),
            cert_der,
            not_before,
            not_after,
        })
    }

    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }

    /// The CA certificate, PEM: the trust bundle's contents.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The CA's private key, PEM. Secret: only written to `ca.key.pem`.
    pub(crate) fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Signs a leaf certificate as described by `spec`, with a new ECDSA P-256 key.
    pub fn issue(&self, spec: &LeafSpec) -> Result<IssuedSvid, PkiError> {
        let mut params = CertificateParams::default();
        // No subject: the SPIFFE ID is the identity (rcgen then marks the SAN extension critical,
        // as RFC 5280 §4.2.1.6 and X509-SVID.md §3.1 require of a subject-less certificate).
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names = spec
            .uri_sans
            .iter()
            .map(|uri| uri.as_str().try_into().map(SanType::URI))
            .collect::<Result<_, rcgen::Error>>()?;
        params.is_ca = if spec.is_ca {
            IsCa::Ca(BasicConstraints::Unconstrained)
        } else {
            IsCa::ExplicitNoCa
        };
        params.key_usages = spec.key_usages.clone();
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.not_before = dates::to_offset(spec.not_before, "SVID start")?;
        params.not_after = dates::to_offset(spec.not_after, "SVID expiry")?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedSvid {
            cert_der: certificate.der().clone(),
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        })
    }
}

impl fmt::Debug for Ca {
    // Never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca")
            .field("trust_domain", &self.trust_domain)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}
