//! The HTML pages (askama templates under `templates/`) and how they become responses.

use std::sync::LazyLock;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderValue, StatusCode, header};
use ring::digest::{SHA256, digest};

/// The stylesheet of every page, inlined. Its first part is the web app's, unchanged (palette,
/// header bar, forms, focus rings, errors): the customer moves between the two without a jolt.
pub const STYLE: &str = include_str!("../../templates/style.css");

/// The `Content-Security-Policy` of every response: nothing loads, nothing runs, the one
/// stylesheet applies by its hash (so no injected style could), no one frames the pages.
/// `form-action` is left out on purpose: browsers apply it to the redirect that follows a form
/// post, which here goes to the client's registered redirect URI on another origin.
pub fn content_security_policy() -> &'static HeaderValue {
    static POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
        let hash = STANDARD.encode(digest(&SHA256, STYLE.as_bytes()));
        HeaderValue::from_str(&format!(
            "default-src 'none'; style-src 'sha256-{hash}'; frame-ancestors 'none'; base-uri 'none'"
        ))
        // Base64 is always a valid header value; were it not, the pages lose their style
        // rather than the policy its strictness.
        .unwrap_or_else(|_| {
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
        })
    });
    &POLICY
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub request_id: &'a str,
    pub client_id: &'a str,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub username: &'a str,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "totp.html")]
pub struct TotpPage<'a> {
    pub request_id: &'a str,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub request_id: &'a str,
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub request_id: &'a str,
    pub csrf_token: &'a str,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage<'a> {
    pub request_id: &'a str,
}

/// Renders `page` with `status`. A template that fails to render (it cannot, short of a bug)
/// becomes a plain 500 rather than a half-written page.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// An error page: the response for authorization requests that cannot be redirected back
/// (RFC 6749 §4.1.2.1: unknown client, unregistered redirect URI) and for broken form posts.
pub fn error_page(status: StatusCode, request_id: &str, title: &str, message: &str) -> Response {
    render(
        status,
        &ErrorPage {
            request_id,
            title,
            message,
        },
    )
}

/// Adds `Retry-After` (RFC 9110 §10.2.3) to a throttled response.
pub fn with_retry_after(mut response: Response, seconds: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_stylesheet_that_is_rendered() {
        let page = LoggedOutPage { request_id: "rid" }.render().unwrap();
        let start = page.find("<style>").unwrap() + "<style>".len();
        let end = page.find("</style>").unwrap();
        let rendered = &page[start..end];
        assert_eq!(rendered, STYLE);
        let hash = STANDARD.encode(digest(&SHA256, rendered.as_bytes()));
        let policy = content_security_policy().to_str().unwrap();
        assert!(
            policy.contains(&format!("style-src 'sha256-{hash}'")),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(!page.contains("<script"));
    }
}
