//! Who may call the chat API at all: the caller's SPIFFE ID, from the mutual-TLS handshake.
//!
//! The TLS layer admits every workload of the trust domain (a valid SVID proves who the peer
//! is); this layer decides whether that peer may call, before anything of the request is read:
//! only the SPIFFE IDs on the allow-list (the web app, by default). Anyone else gets 403
//! `access_denied` naming its SPIFFE ID, so a misrouted workload learns why at once.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use workload_identity::{PeerIdentity, PeerPolicy};

use crate::chat::Failure;

/// The SPIFFE IDs allowed to call. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AllowedCallers(Arc<PeerPolicy>);

impl AllowedCallers {
    pub fn new(policy: PeerPolicy) -> Self {
        Self(Arc::new(policy))
    }

    /// Middleware: passes allowed callers on, refuses the others.
    pub async fn authorize(State(allowed): State<Self>, request: Request, next: Next) -> Response {
        let refusal = match request.extensions().get::<PeerIdentity>() {
            Some(peer) if allowed.0.allows(peer.spiffe_id()) => None,
            Some(peer) => Some(peer.spiffe_id().to_string()),
            // Only a request that did not come through the mutual-TLS server lacks a peer: a
            // wiring mistake, refused all the same.
            None => Some("a caller without a verified SPIFFE ID".to_owned()),
        };
        match refusal {
            None => next.run(request).await,
            Some(peer) => {
                tracing::warn!(peer = %peer, "chat call refused: the caller is not on the allow-list");
                Failure::CallerNotAllowed(peer).alone().into_response()
            }
        }
    }
}
