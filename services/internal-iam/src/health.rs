//! `GET /healthz`: the server is up and serving. On the mTLS listener it needs a client SVID
//! like every other path; the optional plain listener serves this route and nothing else.

use axum::Router;
use axum::routing::get;

pub(crate) const PATH: &str = "/healthz";

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// The router of the plain-HTTP health listener.
pub(crate) fn plain_router() -> Router {
    Router::new().route(PATH, get(healthz))
}
