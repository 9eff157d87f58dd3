//! The request span: entered around all work for one request, so every line logged inside it
//! carries the request id (at the top level of JSON lines, see [`crate::format`]).
//!
//! With `#[tracing::instrument]`, skip every argument that is or contains a credential
//! (`skip(token, proof)`, or `skip_all` and list the safe fields) and record tokens by `jti`.

use crate::request_context::RequestContext;
use tracing::Span;

/// `request{request_id=…, trace_id=…}` at INFO level.
pub fn request_span(context: &RequestContext) -> Span {
    tracing::info_span!(
        "request",
        request_id = context.request_id.as_str(),
        trace_id = context.traceparent.trace_id(),
    )
}
