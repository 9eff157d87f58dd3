//! HTTP header field names, lower-case as HTTP/2 sends them.
//!
//! Typed as [`HeaderName`] so handlers cannot misspell them and no lookup parses a string at run time.

use http::HeaderName;

/// Carries the access token: `Authorization: DPoP <token>` (RFC 9449 §7.1) or
/// `Authorization: Bearer <token>` (RFC 6750 §2.1). Field defined by RFC 9110 §11.6.2.
pub const AUTHORIZATION: HeaderName = http::header::AUTHORIZATION;

/// The DPoP proof JWT sent with every token and resource request (RFC 9449 §4.1).
pub const DPOP: HeaderName = HeaderName::from_static("dpop");

/// A server-provided nonce the client must put in its next DPoP proof (RFC 9449 §8.1, §9).
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The authentication challenge of a 401 response (RFC 9110 §11.6.1; parameters for Bearer in
/// RFC 6750 §3, for DPoP in RFC 9449 §7.1).
pub const WWW_AUTHENTICATE: HeaderName = http::header::WWW_AUTHENTICATE;

/// The request id. No RFC defines it; it is the widely used convention, and every program returns
/// it to its caller so a person can quote it when reporting a problem.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// This system's carrier for the request id and the W3C `traceparent` on the web app → Agent B hop
/// (design step 12). Carries nothing secret; its encoding is defined by the telemetry crate.
pub const X_REQUEST_CONTEXT: HeaderName = HeaderName::from_static("x-request-context");

/// W3C Trace Context `traceparent` (W3C Trace Context §3.2).
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Responses that carry tokens or OAuth errors must not be cached (RFC 6749 §5.1, RFC 9111 §5.2).
pub const CACHE_CONTROL: HeaderName = http::header::CACHE_CONTROL;

/// The only `Cache-Control` value this system sends on token and error responses (RFC 6749 §5.1).
pub const NO_STORE: &str = "no-store";
