//! Who may call Service A2: the gRPC-layer allow-list of SPIFFE IDs (design step 19).
//!
//! # Why authentication is at TLS and authorization here
//!
//! The TLS layer authenticates every caller: a chain to the trust bundle, a valid X.509-SVID,
//! and membership of this trust domain (`PeerPolicy::TrustDomainMember`). Anyone else never
//! completes a handshake. It deliberately does *not* apply the allow-list: a client refused
//! during a TLS 1.3 handshake sees only a `certificate_unknown` alert, often reported as a
//! transport error after its first request, with nothing saying who was refused or why, and the
//! server has no request to log or time. Checked here instead, a workload of the trust domain
//! that is not on the list (Agent B, say, trying to skip Agent A) gets a `PERMISSION_DENIED`
//! status naming its SPIFFE ID, and the refusal is a step-19 event with the request id. The
//! decision is the same; it is made where it can be explained.

use std::sync::Arc;

use tonic::Extensions;
use workload_identity::{PeerIdentity, PeerPolicy, SpiffeId};

/// The SPIFFE IDs allowed to call. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PeerAllowList(Arc<PeerPolicy>);

/// A caller whose SPIFFE ID is on the allow-list. Only [`PeerAllowList::authorize`] makes one, so
/// a handler holding one knows the check ran.
#[derive(Debug, Clone)]
pub struct AllowedPeer(PeerIdentity);

/// Why a caller was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerRefusal {
    /// The request did not come through the mutual-TLS acceptor (a wiring mistake, never a
    /// client's doing).
    #[error("no verified peer identity on this connection")]
    NoIdentity,
    #[error("{peer} is not allowed to call Service A2 (it is not on the allow-list)")]
    NotAllowed { peer: SpiffeId },
}

impl PeerAllowList {
    /// Exactly `allowed`. An empty list allows no one.
    pub fn new(allowed: Vec<SpiffeId>) -> Self {
        Self(Arc::new(PeerPolicy::AllowList(allowed)))
    }

    /// The verified peer of the request, if the list allows it.
    pub fn authorize(&self, extensions: &Extensions) -> Result<AllowedPeer, PeerRefusal> {
        let peer = extensions
            .get::<PeerIdentity>()
            .ok_or(PeerRefusal::NoIdentity)?;
        if self.0.allows(peer.spiffe_id()) {
            Ok(AllowedPeer(peer.clone()))
        } else {
            Err(PeerRefusal::NotAllowed {
                peer: peer.spiffe_id().clone(),
            })
        }
    }
}

impl AllowedPeer {
    pub fn spiffe_id(&self) -> &SpiffeId {
        self.0.spiffe_id()
    }
}
