//! Why a peer's X.509-SVID was refused.

use std::error::Error as StdError;
use std::io;

use crate::spiffe_id::{SpiffeId, SpiffeIdError, TrustDomain};

/// Why a certificate is not an acceptable X.509-SVID, or its SPIFFE ID not an acceptable peer.
///
/// The TLS verifiers return this inside `rustls::Error::InvalidCertificate(CertificateError::Other)`
/// so that the side that refuses a handshake logs the precise reason; the peer only receives a
/// generic `certificate_unknown` alert. [`SvidError::find_in`] gets it back out of a TLS, IO or
/// HTTP client error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SvidError {
    #[error("certificate is not valid DER X.509: {0}")]
    Malformed(String),
    #[error("certificate has no URI SAN, so it carries no SPIFFE ID")]
    NoUriSan,
    #[error("certificate has {count} URI SANs; an X.509-SVID has exactly one")]
    MultipleUriSans { count: usize },
    #[error("the URI SAN is not a valid SPIFFE ID: {0}")]
    InvalidSpiffeId(SpiffeIdError),
    #[error("{id} has no path; only a signing certificate may carry a trust domain's own ID")]
    MissingPath { id: SpiffeId },
    #[error("SPIFFE ID is in trust domain {found}, but the trust bundle is for {expected}")]
    WrongTrustDomain {
        expected: TrustDomain,
        found: TrustDomain,
    },
    #[error("certificate is a CA (basicConstraints cA=true); a CA cannot identify a workload")]
    LeafIsCa,
    #[error("key usage: {0}")]
    BadKeyUsage(KeyUsageFault),
    #[error("certificate expired at {not_after} (UNIX seconds); verification time is {now}")]
    Expired { not_after: i64, now: u64 },
    #[error(
        "certificate is not valid before {not_before} (UNIX seconds); verification time is {now}"
    )]
    NotYetValid { not_before: i64, now: u64 },
    #[error("certificate does not chain to the trust bundle: {0}")]
    UntrustedChain(webpki::Error),
    #[error("peer {peer} is not authorized by this endpoint's policy")]
    NotAuthorized { peer: SpiffeId },
}

/// What is wrong with a leaf's key usage extension (X509-SVID.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyUsageFault {
    #[error("the key usage extension is missing")]
    Missing,
    #[error("digitalSignature is not set")]
    NoDigitalSignature,
    #[error("keyCertSign is set, which only a signing certificate may")]
    KeyCertSign,
    #[error("cRLSign is set, which only a signing certificate may")]
    CrlSign,
}

impl SvidError {
    /// Finds the `SvidError` behind a failed handshake, wherever it sits in an error chain: a
    /// `rustls::Error`, the `io::Error` tokio-rustls wraps it in, or a hyper, tonic or reqwest
    /// error whose source chain leads to one.
    pub fn find_in<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a SvidError> {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(found) = error.downcast_ref::<SvidError>() {
                return Some(found);
            }
            if let Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))) =
                error.downcast_ref::<rustls::Error>()
            {
                return other.0.downcast_ref::<SvidError>();
            }
            // `io::Error::source` skips the wrapped error itself, so step into it explicitly.
            current = match error.downcast_ref::<io::Error>() {
                Some(io_error) => io_error
                    .get_ref()
                    .map(|inner| inner as &(dyn StdError + 'static)),
                None => error.source(),
            };
        }
        None
    }
}
