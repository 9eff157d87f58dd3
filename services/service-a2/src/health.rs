//! Readiness, for the programs and probes that start this service and wait for it.
//!
//! Two ways to probe, both answering only once the service is built (database migrated and
//! seeded, identity loaded) and serving:
//!
//! - **TLS:** a mutual-TLS handshake with any SVID of the trust domain completes on the gRPC
//!   listener. (A call then needs Agent A's SVID and a user context; the handshake alone says
//!   the server is up.)
//! - **HTTP:** with `--health-listen`, `GET /healthz` on that plain listener answers `200 ok`.
//!   It serves nothing else, so it can be exposed to a kubelet that cannot present an SVID.

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
