//! The request middleware: a request id and trace context for every request, the span that
//! carries them, and the headers every response of this app carries.

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};
use telemetry::{RequestContext, RequestId, TraceParent};
use tracing::Instrument as _;

use crate::state::AppState;

/// The correlation data of one request, put in its extensions by the request middleware.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub context: RequestContext,
}

impl RequestMeta {
    pub fn request_id(&self) -> &RequestId {
        &self.context.request_id
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .unwrap_or_else(fresh))
    }
}

/// A new request id and trace. This app is where requests enter the system: an id or
/// `traceparent` the browser sends is not adopted, so nobody outside picks the ids the logs of
/// every program are correlated by.
fn fresh() -> RequestMeta {
    let rng = telemetry::SystemRandom::new();
    let request_id = RequestId::generate(&rng).unwrap_or_else(|_| {
        // Without randomness nothing else works either; a fixed id keeps logging going.
        RequestId::parse("no-random-request-id").unwrap_or_else(|_| std::process::abort())
    });
    let traceparent = TraceParent::generate(&rng).unwrap_or_else(|_| {
        TraceParent::parse("00-00000000000000000000000000000001-0000000000000001-00")
            .unwrap_or_else(|_| std::process::abort())
    });
    RequestMeta {
        context: RequestContext::new(request_id, traceparent),
    }
}

/// Middleware: gives the request its id and trace, runs it in a span carrying them, returns
/// the id in `X-Request-Id`, and adds the security headers.
pub async fn annotate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let meta = fresh();
    let span = telemetry::request_span(&meta.context);
    let request_id = meta.context.request_id.clone();
    request.extensions_mut().insert(meta);
    let mut response = next.run(request).instrument(span).await;
    let headers = response.headers_mut();
    telemetry::propagation::http::insert_request_id(headers, &request_id);
    security_headers(headers, &state.csp);
    response
}

fn security_headers(headers: &mut HeaderMap, csp: &HeaderValue) {
    let defaults: [(header::HeaderName, HeaderValue); 5] = [
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // The callback URL carries a code and state; no page's URL leaves in a Referer.
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::CONTENT_SECURITY_POLICY, csp.clone()),
        // Every page shows session state; none may be stored, so after logout the back button
        // cannot bring the chat back from a cache.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
}
