//! Moving the request id and trace context in and out of HTTP headers and gRPC metadata.
//!
//! Extraction returns `Ok(None)` when the carrier has none of the fields (the caller decides:
//! an edge starts a new context, an internal hop rejects) and an error when a field is present
//! but repeated, non-ASCII or invalid: a second value is never silently preferred over the first.

pub mod grpc;
pub mod http;

use crate::request_context::InvalidRequestContext;
use crate::request_id::InvalidRequestId;
use crate::traceparent::InvalidTraceParent;
use std::fmt;

/// A propagated field, named as on the wire in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `x-request-id`.
    RequestId,
    /// `traceparent`.
    TraceParent,
    /// `x-request-context`.
    RequestContext,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RequestId => f.write_str(wire::metadata::REQUEST_ID),
            Self::TraceParent => f.write_str(wire::metadata::TRACEPARENT),
            Self::RequestContext => f.write_str(wire::headers::X_REQUEST_CONTEXT.as_str()),
        }
    }
}

/// Why a carrier's correlation fields were refused. No variant holds the received text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PropagationError {
    /// The field appears more than once.
    #[error("{0} appears more than once")]
    Duplicate(Field),
    /// The field is not visible ASCII.
    #[error("{0} is not visible ASCII")]
    NotAscii(Field),
    /// The field is missing while its companion is present (gRPC carries both or neither).
    #[error("{0} is missing")]
    Missing(Field),
    /// An invalid request id.
    #[error("invalid {field}: {0}", field = Field::RequestId)]
    RequestId(InvalidRequestId),
    /// An invalid `traceparent`.
    #[error("invalid {field}: {0}", field = Field::TraceParent)]
    TraceParent(InvalidTraceParent),
    /// An invalid `X-Request-Context`.
    #[error("invalid {field}: {0}", field = Field::RequestContext)]
    RequestContext(InvalidRequestContext),
}

/// Bad correlation metadata is a malformed request.
impl From<PropagationError> for tonic::Status {
    fn from(error: PropagationError) -> Self {
        tonic::Status::invalid_argument(error.to_string())
    }
}
