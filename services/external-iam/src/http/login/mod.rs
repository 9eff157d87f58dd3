//! The login pages: username and password, then a TOTP code (design steps 3 and 4).
//!
//! Every form carries the session's synchronizer CSRF token and the id of the pending
//! authorization request, which must belong to the same browser session. Answers to wrong
//! credentials are the same for an unknown user and a wrong password, and cost the same
//! argon2 run (see [`crate::auth::password`]).

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, StatusCode};

use super::audit::audit_event;
use super::pages::{LoginPage, TotpPage, error_page, render};
use super::request::{FormError, RequestMeta, cookie, read_form, session_cookie_name};
use crate::auth::throttle::Keys;
use crate::mfa::totp::constant_time_eq;
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::params::Params;
use crate::state::Shared;
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::sessions::{self, BrowserSession};

mod password;
mod totp;

pub use password::{password_form, password_submit};
pub use totp::{totp_form, totp_submit};

const MAX_USERNAME: usize = 128;
const WRONG_CREDENTIALS: &str = "The username or password is incorrect.";
const EXPIRED: &str =
    "This sign-in attempt has expired. Go back to the application and start again.";

#[derive(serde::Deserialize)]
pub struct PendingQuery {
    request: Option<String>,
}

/// The session and pending authorization request a login page works on.
struct Context {
    session: BrowserSession,
    request_id: String,
    request: AuthorizationRequest,
}

/// A page-level failure, already rendered.
type PageResult<T> = Result<T, Response>;

async fn context(
    state: &Shared,
    meta: &RequestMeta,
    headers: &HeaderMap,
    pending: Option<&str>,
) -> PageResult<Context> {
    let rid = meta.request_id.as_str();
    let expired = || error_page(StatusCode::BAD_REQUEST, rid, "Sign-in expired", EXPIRED);
    let now = state.now();
    let https = state.config.issuer.is_https();
    let value = cookie(headers, session_cookie_name(https)).ok_or_else(expired)?;
    let session = sessions::get(state.pool(), &value, now)
        .await
        .map_err(|e| server_page(rid, &e))?
        .ok_or_else(expired)?;
    let pending = pending.filter(|p| p.len() <= 64).ok_or_else(expired)?;
    let json = sessions::get_pending(state.pool(), pending, &session.id_hash, now)
        .await
        .map_err(|e| server_page(rid, &e))?
        .ok_or_else(expired)?;
    let request: AuthorizationRequest =
        serde_json::from_str(&json).map_err(|e| server_page(rid, &e))?;
    Ok(Context {
        session,
        request_id: pending.to_owned(),
        request,
    })
}

fn server_page(rid: &str, error: &dyn std::fmt::Display) -> Response {
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        rid,
        "Something went wrong",
        super::internal(error),
    )
}

/// Reads a login form and checks its CSRF token; failures are rendered pages.
async fn form_context(
    state: &Shared,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: Body,
) -> PageResult<(Params, Context)> {
    let rid = meta.request_id.as_str();
    let params = read_form(headers, body, state.config.max_form_bytes)
        .await
        .map_err(|error| match error {
            FormError::TooLarge(_) => error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                rid,
                "Form too large",
                &format!("The form is too large: {error}."),
            ),
            other => error_page(
                StatusCode::BAD_REQUEST,
                rid,
                "Invalid form",
                &format!("The form could not be read: {other}."),
            ),
        })?;
    let context = context(state, meta, headers, params.get("request")).await?;
    let sent = params.get("csrf_token").unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), context.session.csrf_token.as_bytes()) {
        tracing::warn!(request_id = rid, "login form without a valid CSRF token");
        return Err(error_page(
            StatusCode::FORBIDDEN,
            rid,
            "Form expired",
            "The form was not sent by this sign-in page, or it has expired. Reload the page and try again.",
        ));
    }
    Ok((params, context))
}

fn login_page(
    meta: &RequestMeta,
    ctx: &Context,
    status: StatusCode,
    username: &str,
    error: Option<String>,
) -> Response {
    render(
        status,
        &LoginPage {
            request_id: meta.request_id.as_str(),
            client_id: &ctx.request.client_id,
            csrf_token: &ctx.session.csrf_token,
            request: &ctx.request_id,
            username,
            error,
        },
    )
}

fn totp_page(
    meta: &RequestMeta,
    ctx: &Context,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    render(
        status,
        &TotpPage {
            request_id: meta.request_id.as_str(),
            csrf_token: &ctx.session.csrf_token,
            request: &ctx.request_id,
            error,
        },
    )
}

/// Confirms the failure of an attempt the throttle counted, and audits a lock it causes.
async fn record_failure(state: &Shared, keys: &Keys, event: AuditEvent) {
    match state
        .throttle
        .confirm_failure(state.pool(), keys, state.now())
        .await
    {
        Ok(outcome) if outcome.locked_now => {
            audit_event(
                state,
                AuditKind::LockedOut,
                AuditEvent {
                    reason: Some("failure limit reached".into()),
                    ..event
                },
            )
            .await;
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "a login failure could not be counted"),
    }
}
