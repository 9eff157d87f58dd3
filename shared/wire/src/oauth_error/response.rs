//! The HTTP response of an [`OAuthError`]: status, `Cache-Control: no-store`, the challenge and
//! nonce headers, and the JSON body of RFC 6749 §5.2.

use super::OAuthError;
use crate::headers::{CACHE_CONTROL, DPOP_NONCE, NO_STORE, WWW_AUTHENTICATE};
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use serde::Serialize;

/// The JSON body: `{"error": "...", "error_description": "..."}` (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody<'a> {
    /// The error code.
    pub error: &'static str,
    /// The description, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<&'a str>,
}

impl OAuthError {
    /// The JSON body; `None` for a request without credentials, which gets the challenge only
    /// (RFC 6750 §3.1).
    pub fn body(&self) -> Option<ErrorBody<'_>> {
        let code = self.inner.code?;
        Some(ErrorBody {
            error: code.as_str(),
            error_description: self.inner.description.as_ref().map(|d| d.as_str()),
        })
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = match self.body() {
            Some(body) => (self.inner.status, Json(body)).into_response(),
            None => self.inner.status.into_response(),
        };
        let headers = response.headers_mut();
        // Error responses can echo what was wrong with a credential; no cache may keep them
        // (RFC 6749 §5.1 asks the same of token responses).
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
        if let Some(challenge) = self.www_authenticate() {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        if let Some(nonce) = self
            .dpop_nonce()
            .and_then(|nonce| HeaderValue::from_str(nonce.as_str()).ok())
        {
            headers.insert(DPOP_NONCE, nonce);
        }
        response
    }
}
