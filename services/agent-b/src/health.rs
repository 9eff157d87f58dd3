//! Readiness, for the programs and probes that start this service and wait for it.
//!
//! - **TLS:** a mutual-TLS handshake with any SVID of the trust domain completes on the API
//!   listener (a chat call then also needs an allowed SPIFFE ID and a customer token).
//! - **HTTP:** with `--health-listen`, `GET /healthz` on that plain listener answers `200 ok`
//!   once the agent is built and serving. It serves nothing else, so it can be exposed to a
//!   kubelet that cannot present an SVID.

use axum::Router;
use axum::routing::get;

/// The path of the health check.
pub const PATH: &str = "/healthz";

async fn healthz() -> &'static str {
    "ok"
}

/// The router of the plain health listener.
pub(crate) fn router() -> Router {
    Router::new().route(PATH, get(healthz))
}
