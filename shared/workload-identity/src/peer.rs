//! The authenticated and authorized peer of a connection, as handlers receive it.

use std::fmt;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use crate::spiffe_id::SpiffeId;
use crate::svid::{SvidError, leaf};

/// The peer of a mutual-TLS connection whose SVID the verifier accepted and whose SPIFFE ID the
/// policy allowed.
///
/// Only the servers of this crate create it, after the handshake, so a handler holding one knows
/// the connection it came from was verified. Cloning is a reference count: it is computed once per
/// connection and shared by every request on it.
#[derive(Clone)]
pub struct PeerIdentity(Arc<Peer>);

struct Peer {
    spiffe_id: SpiffeId,
    x5t_s256: String,
    leaf: CertificateDer<'static>,
}

/// Why a completed handshake yielded no peer identity.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PeerIdentityError {
    #[error("the peer presented no certificate; the server configuration does not require one")]
    NoCertificate,
    #[error("the verified peer certificate has no usable SPIFFE ID: {0}")]
    Svid(#[from] SvidError),
}

impl PeerIdentity {
    /// From the certificates of a connection whose handshake completed with this crate's
    /// verifier.
    pub(crate) fn from_verified_chain(
        certificates: Option<&[CertificateDer<'static>]>,
    ) -> Result<Self, PeerIdentityError> {
        let leaf = certificates
            .and_then(<[_]>::first)
            .ok_or(PeerIdentityError::NoCertificate)?;
        Ok(Self(Arc::new(Peer {
            spiffe_id: leaf::spiffe_id_of(leaf)?,
            x5t_s256: tokens::thumbprint::x5t_s256(leaf),
            leaf: leaf.clone(),
        })))
    }

    pub fn spiffe_id(&self) -> &SpiffeId {
        &self.0.spiffe_id
    }

    /// The RFC 8705 `x5t#S256` thumbprint of the peer's certificate, which a certificate-bound
    /// token's `cnf` must equal.
    pub fn x5t_s256(&self) -> &str {
        &self.0.x5t_s256
    }

    /// The peer's leaf certificate, DER.
    pub fn leaf_der(&self) -> &CertificateDer<'static> {
        &self.0.leaf
    }
}

impl fmt::Debug for PeerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerIdentity")
            .field("spiffe_id", &self.0.spiffe_id)
            .field("x5t_s256", &self.0.x5t_s256)
            .finish_non_exhaustive()
    }
}
