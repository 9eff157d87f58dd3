//! gRPC metadata keys. gRPC carries metadata as HTTP/2 header fields, so keys are lower-case ASCII
//! (gRPC over HTTP/2, "Requests"); identity travels here, never in request messages.

/// The service token: `authorization: Bearer <token>` (RFC 6750 §2.1), issued by the internal IAM
/// and bound to the caller's certificate (RFC 8705 §3).
pub const AUTHORIZATION: &str = "authorization";

/// The user context: a transaction token (draft-ietf-oauth-transaction-tokens) naming the
/// customer, forwarded unchanged along the call chain. The draft itself names an HTTP header
/// `Txn-Token`; this system uses its own key so the value is never mistaken for a credential of
/// the calling workload.
pub const USER_CONTEXT: &str = "x-user-context";

/// The request id, as in the HTTP header of the same name.
pub const REQUEST_ID: &str = "x-request-id";

/// W3C Trace Context `traceparent` (W3C Trace Context §3.2).
pub const TRACEPARENT: &str = "traceparent";
