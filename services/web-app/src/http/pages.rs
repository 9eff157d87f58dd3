//! The HTML pages (askama templates under `templates/`), their view models, and how they
//! become responses.
//!
//! Every page is self-contained: one inline stylesheet (allowed by its hash in the
//! `Content-Security-Policy`, so no other inline style or any script can run), no script, no
//! external asset. Every value from elsewhere (the customer's message, Agent B's answer, the
//! timeline's texts) is HTML-escaped by the templates.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderValue, StatusCode};
use ring::digest::{SHA256, digest};
use wire::chat::{AccountData, Money, Records};

use crate::timeline::Timeline;

/// The stylesheet of every page, shared in spirit with the IAM's pages (same colours, type and
/// shapes) so that the customer moves between the two without a jolt.
pub const STYLE: &str = include_str!("../../templates/style.css");

/// The `Content-Security-Policy` of every page: nothing loads, nothing runs, the stylesheet
/// applies by its hash, forms post only here or to the IAM (`form-action` also governs the
/// redirect after a post, and logout posts here and is redirected to the IAM's end-session
/// endpoint), and no one frames the pages.
pub fn content_security_policy(iam_origin: &str) -> Option<HeaderValue> {
    let hash = STANDARD.encode(digest(&SHA256, STYLE.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self' {iam_origin}; \
         frame-ancestors 'none'; base-uri 'none'"
    ))
    .ok()
}

/// The signed-in customer, as the header bar shows them.
#[derive(Debug, Clone)]
pub struct UserView {
    pub name: String,
    /// The session's CSRF token, for the sign-out form.
    pub csrf_token: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub request_id: &'a str,
    pub user: Option<UserView>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub request_id: &'a str,
    pub user: Option<UserView>,
    pub title: &'a str,
    pub message: &'a str,
    /// Offer to start again (a link to the chat, which starts a login when needed).
    pub retry: bool,
}

#[derive(Template)]
#[template(path = "forbidden.html")]
pub struct ForbiddenPage<'a> {
    pub request_id: &'a str,
    pub user: Option<UserView>,
    pub missing_scope: &'a str,
}

#[derive(Template)]
#[template(path = "chat.html")]
pub struct ChatPage<'a> {
    pub request_id: &'a str,
    pub user: Option<UserView>,
    pub csrf_token: &'a str,
    pub max_chars: usize,
    /// The message to put back in the form (after a refused post).
    pub draft: &'a str,
    pub form_error: Option<String>,
    pub exchange: Option<Exchange>,
    pub timeline_title: &'a str,
    pub timeline_request_id: &'a str,
    pub login_request_id: Option<&'a str>,
    pub timeline: Timeline,
}

/// The last question and what came of it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub question: String,
    pub answer: Option<String>,
    /// Why there is no answer, for the customer.
    pub problem: Option<String>,
    pub data: Option<DataView>,
}

/// Account records, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataView {
    Balance {
        amount: String,
    },
    Orders {
        rows: Vec<OrderRow>,
    },
    Profile {
        display_name: String,
        email: String,
        member_since: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub order_id: String,
    pub placed_on: String,
    pub description: String,
    pub status: String,
    pub total: String,
}

impl From<&AccountData> for DataView {
    fn from(data: &AccountData) -> Self {
        match &data.records {
            Records::Balance(money) => Self::Balance {
                amount: money_text(money),
            },
            Records::Orders { orders } => Self::Orders {
                rows: orders
                    .iter()
                    .map(|order| OrderRow {
                        order_id: order.order_id.clone(),
                        placed_on: order.placed_on.clone(),
                        description: order.description.clone(),
                        status: order.status.clone(),
                        total: money_text(&order.total),
                    })
                    .collect(),
            },
            Records::Profile(profile) => Self::Profile {
                display_name: profile.display_name.clone(),
                email: profile.email.clone(),
                member_since: profile.member_since.clone(),
            },
        }
    }
}

/// `1842.50 EUR` from minor units, in integers (money is never a float). Two decimals: the
/// demo's currencies (EUR, USD, GBP) all have a minor unit of one hundredth (ISO 4217).
pub fn money_text(money: &Money) -> String {
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let minor = money.amount_minor.unsigned_abs();
    format!(
        "{sign}{}.{:02} {}",
        minor / 100,
        minor % 100,
        money.currency
    )
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

/// An error page.
pub fn error_page(
    status: StatusCode,
    request_id: &str,
    user: Option<UserView>,
    title: &str,
    message: &str,
    retry: bool,
) -> Response {
    render(
        status,
        &ErrorPage {
            request_id,
            user,
            title,
            message,
            retry,
        },
    )
}

/// The page for a failure of the app itself (database, randomness): the cause goes to the
/// log, the customer gets an apology and the request id.
pub fn internal_error(request_id: &str, cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(%cause, "internal error");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        request_id,
        None,
        "Something went wrong",
        "The request could not be completed. Please try again in a moment.",
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_formatted_from_minor_units() {
        let eur = |amount_minor| Money {
            amount_minor,
            currency: "EUR".to_owned(),
        };
        assert_eq!(money_text(&eur(184_250)), "1842.50 EUR");
        assert_eq!(money_text(&eur(5)), "0.05 EUR");
        assert_eq!(money_text(&eur(-1_999)), "-19.99 EUR");
        assert_eq!(money_text(&eur(i64::MIN)), "-92233720368547758.08 EUR");
    }

    #[test]
    fn the_policy_allows_exactly_the_stylesheet_that_is_rendered() {
        let page = HomePage {
            request_id: "rid",
            user: None,
        }
        .render()
        .unwrap();
        let start = page.find("<style>").unwrap() + "<style>".len();
        let end = page.find("</style>").unwrap();
        let rendered = &page[start..end];
        assert_eq!(rendered, STYLE);
        let policy = content_security_policy("http://localhost:9000").unwrap();
        let hash = STANDARD.encode(digest(&SHA256, rendered.as_bytes()));
        let policy = policy.to_str().unwrap();
        assert!(
            policy.contains(&format!("style-src 'sha256-{hash}'")),
            "{policy}"
        );
        assert!(policy.contains("form-action 'self' http://localhost:9000"));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn the_iam_pages_share_the_base_of_this_stylesheet() {
        // The customer moves between the two sites during a login: same palette, header bar,
        // forms, focus rings and errors. The base is copied, not linked (no page loads
        // anything), so this keeps the copies equal.
        const IAM: &str = include_str!("../../../external-iam/templates/style.css");
        let base = |css: &'static str, own_part: &str| &css[..css.find(own_part).unwrap()];
        assert_eq!(
            base(STYLE, "/* The web app:"),
            base(IAM, "/* The external IAM:")
        );
    }

    #[test]
    fn text_from_elsewhere_is_escaped() {
        let page = ErrorPage {
            request_id: "rid",
            user: None,
            title: "<b>t</b>",
            message: "<script>alert(1)</script>",
            retry: false,
        }
        .render()
        .unwrap();
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"));
    }
}
