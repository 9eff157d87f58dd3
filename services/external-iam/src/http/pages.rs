//! The HTML pages (askama templates under `templates/`) and how they become responses.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

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
