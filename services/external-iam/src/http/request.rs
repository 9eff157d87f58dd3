//! Reading requests: the request id and client address, form bodies, cookies.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};
use telemetry::RequestId;

use crate::auth::opaque::Opaque;
use crate::oauth::params::{Params, ParamsError};

/// The request id and client address of a request, put in its extensions by [`annotate`].
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: RequestId,
    /// The TCP peer. Behind a reverse proxy this is the proxy; a deployment there must put the
    /// throttle in front or teach this server its trusted proxies (not configured here).
    pub ip: String,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .unwrap_or_else(|| RequestMeta {
                request_id: fresh_request_id(),
                ip: "unknown".into(),
            }))
    }
}

fn fresh_request_id() -> RequestId {
    RequestId::generate(&telemetry::SystemRandom::new()).unwrap_or_else(|_| {
        // Without randomness nothing else works either; a fixed id keeps logging going.
        RequestId::parse("no-random-request-id").unwrap_or_else(|_| std::process::abort())
    })
}

/// Middleware: takes the caller's `X-Request-Id` when it is well formed (else makes one),
/// records the client address, returns the id in the response, and sets the headers every
/// response of an identity provider should carry.
pub async fn annotate(mut request: Request, next: Next) -> Response {
    let request_id = telemetry::propagation::http::request_id(request.headers())
        .ok()
        .flatten()
        .unwrap_or_else(fresh_request_id);
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
    request.extensions_mut().insert(RequestMeta {
        request_id: request_id.clone(),
        ip,
    });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    telemetry::propagation::http::insert_request_id(headers, &request_id);
    security_headers(headers);
    response
}

fn security_headers(headers: &mut HeaderMap) {
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            super::pages::content_security_policy().clone(),
        );
    }
    let defaults: [(header::HeaderName, &str); 4] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Logins, tokens and errors must never be cached; the few cacheable responses (JWKS,
        // metadata) set their own Cache-Control.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the request body is over the {0}-byte limit")]
    TooLarge(usize),
    #[error("the body must be application/x-www-form-urlencoded")]
    WrongContentType,
    #[error(transparent)]
    Params(#[from] ParamsError),
}

/// Reads an `application/x-www-form-urlencoded` body of at most `limit` bytes.
pub async fn read_form(headers: &HeaderMap, body: Body, limit: usize) -> Result<Params, FormError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if content_type.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(FormError::WrongContentType);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(FormError::TooLarge(limit));
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| FormError::TooLarge(limit))?;
    Ok(Params::parse(&bytes)?)
}

/// The value of cookie `name`, if exactly one well-formed one was sent. Two cookies of the same
/// name (one planted by a sibling domain, say) are treated as none.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<Opaque> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            let Some((key, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if key == name {
                if found.is_some() {
                    return None;
                }
                found = Some(value.to_owned());
            }
        }
    }
    found.as_deref().and_then(Opaque::presented)
}

/// The session cookie's name: `__Host-` prefixed when served over TLS (the prefix requires
/// `Secure`, which a browser refuses to set over plain http, as on the dev issuer
/// `http://localhost:9000`).
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-iam_session"
    } else {
        "iam_session"
    }
}

/// A `Set-Cookie` value for the session: HttpOnly (no script reads it), SameSite=Lax (sent on
/// the top-level navigation back from a client, not on cross-site posts), Path=/, Secure on TLS.
/// `max_age` 0 deletes it.
pub fn session_cookie(https: bool, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        session_cookie_name(https)
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_or_malformed_cookies_are_ignored() {
        let value = "A".repeat(43);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("x=1; iam_session={value}").parse().unwrap(),
        );
        assert!(cookie(&headers, "iam_session").is_some());
        headers.append(
            header::COOKIE,
            format!("iam_session={value}").parse().unwrap(),
        );
        assert!(cookie(&headers, "iam_session").is_none());
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "iam_session=short".parse().unwrap());
        assert!(cookie(&headers, "iam_session").is_none());
    }

    #[test]
    fn cookie_attributes_follow_the_transport() {
        let plain = session_cookie(false, "v", 60).unwrap();
        assert_eq!(
            plain,
            "iam_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        let tls = session_cookie(true, "v", 60).unwrap();
        assert!(tls.to_str().unwrap().starts_with("__Host-iam_session=v;"));
        assert!(tls.to_str().unwrap().ends_with("; Secure"));
    }
}
