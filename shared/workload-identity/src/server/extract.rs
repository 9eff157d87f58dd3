//! The axum extractor for the verified peer.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use tracing::error;

use crate::peer::PeerIdentity;

/// The request did not come through this crate's mutual-TLS server, so no peer was verified.
///
/// Only a misconfiguration gets here (the router served by plain `axum::serve`, say); it is
/// answered with 401 rather than served without an identity.
#[derive(Debug, thiserror::Error)]
#[error("no verified peer identity on this connection")]
pub struct NoPeerIdentity;

impl IntoResponse for NoPeerIdentity {
    fn into_response(self) -> Response {
        error!("a handler needs the peer identity, but the router is not served over mutual TLS");
        (StatusCode::UNAUTHORIZED, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PeerIdentity {
    type Rejection = NoPeerIdentity;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<PeerIdentity>()
            .cloned()
            .ok_or(NoPeerIdentity)
    }
}
