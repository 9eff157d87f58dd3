//! The X.509 trust bundle of one trust domain: the CA certificates SVIDs must chain to.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor};

use crate::spiffe_id::TrustDomain;

/// Why a trust bundle cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("the trust bundle is not valid PEM: {0}")]
    Pem(String),
    #[error("the trust bundle holds no certificate")]
    Empty,
    #[error("trust bundle certificate #{index} cannot be parsed: {reason}")]
    Malformed { index: usize, reason: String },
    #[error(
        "trust bundle certificate #{index} is not a CA; trusting it would let its key vouch for anyone"
    )]
    NotACa { index: usize },
}

/// The CA certificates of a trust domain, parsed once into trust anchors.
///
/// An SVID is accepted only for this trust domain: trusting another domain (federation) would
/// take a bundle per domain, which this system does not need.
#[derive(Debug, Clone)]
pub struct TrustBundle {
    trust_domain: TrustDomain,
    roots: Vec<CertificateDer<'static>>,
    anchors: Vec<TrustAnchor<'static>>,
}

impl TrustBundle {
    pub fn new(
        trust_domain: TrustDomain,
        roots: Vec<CertificateDer<'static>>,
    ) -> Result<Self, BundleError> {
        if roots.is_empty() {
            return Err(BundleError::Empty);
        }
        let mut anchors = Vec::with_capacity(roots.len());
        for (index, root) in roots.iter().enumerate() {
            check_is_ca(index, root)?;
            let anchor =
                webpki::anchor_from_trusted_cert(root).map_err(|error| BundleError::Malformed {
                    index,
                    reason: error.to_string(),
                })?;
            anchors.push(anchor.to_owned());
        }
        Ok(Self {
            trust_domain,
            roots,
            anchors,
        })
    }

    /// Parses concatenated PEM `CERTIFICATE` blocks.
    pub fn from_pem(trust_domain: TrustDomain, pem: &[u8]) -> Result<Self, BundleError> {
        let roots = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| BundleError::Pem(error.to_string()))?;
        Self::new(trust_domain, roots)
    }

    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }

    pub fn roots(&self) -> &[CertificateDer<'static>] {
        &self.roots
    }

    pub(crate) fn anchors(&self) -> &[TrustAnchor<'static>] {
        &self.anchors
    }
}

fn check_is_ca(index: usize, root: &CertificateDer<'_>) -> Result<(), BundleError> {
    let malformed = |reason: String| BundleError::Malformed { index, reason };
    let (_, certificate) =
        x509_parser::parse_x509_certificate(root).map_err(|error| malformed(error.to_string()))?;
    let is_ca = certificate
        .basic_constraints()
        .map_err(|error| malformed(error.to_string()))?
        .is_some_and(|constraints| constraints.value.ca);
    if is_ca {
        Ok(())
    } else {
        Err(BundleError::NotACa { index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> TrustDomain {
        TrustDomain::new("demo.test").unwrap()
    }

    #[test]
    fn an_empty_bundle_trusts_nothing_and_is_refused() {
        assert_eq!(
            TrustBundle::new(demo(), Vec::new()).unwrap_err(),
            BundleError::Empty
        );
        assert_eq!(
            TrustBundle::from_pem(demo(), b"no PEM here").unwrap_err(),
            BundleError::Empty
        );
    }

    #[test]
    fn bytes_that_are_not_a_certificate_are_refused() {
        let error =
            TrustBundle::new(demo(), vec![CertificateDer::from(b"garbage".to_vec())]).unwrap_err();
        assert!(
            matches!(error, BundleError::Malformed { index: 0, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn broken_pem_is_refused() {
        let pem = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            TrustBundle::from_pem(demo(), pem).unwrap_err(),
            BundleError::Pem(_)
        ));
    }
}
