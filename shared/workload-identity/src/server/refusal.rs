//! Telling the program about clients its TLS layer refused, so it can record them (an audit
//! trail of refused identities) as well as log them.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::svid::SvidError;

/// A client whose handshake was refused because of its identity.
///
/// Only identity refusals are reported: no certificate, or an SVID the verifier or policy
/// refused. Handshakes that fail for other reasons (port scans, plain HTTP, timeouts, protocol
/// errors) never presented an identity to refuse and are only logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeRefusal {
    pub remote_addr: SocketAddr,
    pub reason: RefusalReason,
}

/// Why a client's identity was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalReason {
    /// The client presented no certificate.
    NoCertificate,
    /// The client's certificate is not an acceptable SVID, or its SPIFFE ID is not allowed.
    InvalidSvid(SvidError),
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCertificate => f.write_str("the client presented no certificate"),
            Self::InvalidSvid(error) => fmt::Display::fmt(error, f),
        }
    }
}

/// Called once per refused handshake, on the handshake's task: it must return quickly (queue
/// the record; do not write it to a database inline).
pub type RefusalHook = Arc<dyn Fn(&HandshakeRefusal) + Send + Sync>;

/// Classifies a failed handshake; `None` when no identity was refused.
pub(crate) fn classify(error: &std::io::Error) -> Option<RefusalReason> {
    if let Some(svid) = SvidError::find_in(error) {
        return Some(RefusalReason::InvalidSvid(svid.clone()));
    }
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::NoCertificatesPresented) => Some(RefusalReason::NoCertificate),
        _ => None,
    }
}
