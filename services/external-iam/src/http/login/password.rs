//! The first form: username and password (design step 3).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use telemetry::StepTimer;
use wire::{Program, steps};

use super::{
    MAX_USERNAME, PendingQuery, WRONG_CREDENTIALS, context, form_context, login_page,
    record_failure, server_page,
};
use crate::auth::password::Password;
use crate::auth::throttle::Keys;
use crate::http::audit::{audit_event, meta_event};
use crate::http::pages::with_retry_after;
use crate::http::request::RequestMeta;
use crate::state::{AppState, paths};
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::sessions;
use crate::store::users::{self, normalise_username};

/// `GET /login?request=…`: the username and password form.
pub async fn password_form(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Query(query): Query<PendingQuery>,
) -> Response {
    let step = StepTimer::start(
        Program::ExternalIam,
        steps::CUSTOMER_SIGNS_IN,
        &meta.request_id,
    );
    match context(&state, &meta, &headers, query.request.as_deref()).await {
        Ok(ctx) => {
            step.ok("login form served");
            login_page(&meta, &ctx, StatusCode::OK, "", None)
        }
        Err(page) => {
            step.rejected(
                "login form",
                "no live sign-in request for this browser session",
            );
            page
        }
    }
}

/// `POST /login`: checks the password.
pub async fn password_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let step = StepTimer::start(
        Program::ExternalIam,
        steps::CUSTOMER_SIGNS_IN,
        &meta.request_id,
    );
    let (params, ctx) = match form_context(&state, &meta, &headers, body).await {
        Ok(ok) => ok,
        Err(page) => {
            step.rejected("credentials form", "form, session or CSRF token invalid");
            return page;
        }
    };
    let typed = params.get("username").unwrap_or_default();
    let password = params.get("password").unwrap_or_default();
    if typed.is_empty() || password.is_empty() || typed.len() > MAX_USERNAME {
        step.rejected("credentials", "username or password missing");
        return login_page(
            &meta,
            &ctx,
            StatusCode::BAD_REQUEST,
            typed
                .get(..typed.len().min(MAX_USERNAME))
                .unwrap_or_default(),
            Some("Enter your username and password.".into()),
        );
    }
    let username = normalise_username(typed);
    let now = state.now();
    let user = match users::by_username(state.pool(), &username).await {
        Ok(user) => user,
        Err(error) => return server_page(meta.request_id.as_str(), &error),
    };
    // A name that is no account's may be a password typed into the wrong field: the audit
    // trail (and the log line it makes) and the throttle's counter get a fingerprint of it,
    // enough to see the same name tried again, never the text.
    let recorded_name = if user.is_some() {
        username.clone()
    } else {
        unknown_name_fingerprint(&username)
    };
    let keys = Keys::new(&recorded_name, &meta.ip);
    let event = || AuditEvent {
        client_id: Some(ctx.request.client_id.clone()),
        username: Some(recorded_name.clone()),
        ..meta_event(&meta)
    };

    match state.throttle.reserve(state.pool(), &keys, now).await {
        Ok(None) => {}
        Ok(Some(refusal)) => {
            audit_event(
                &state,
                AuditKind::LoginFailed,
                AuditEvent {
                    reason: Some("throttled".into()),
                    ..event()
                },
            )
            .await;
            step.rejected("throttle", "too many failed attempts");
            let page = login_page(
                &meta,
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                typed,
                Some(refusal.message(now)),
            );
            return with_retry_after(page, refusal.retry_after(now));
        }
        Err(error) => return server_page(meta.request_id.as_str(), &error),
    }

    let known = user.is_some();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state
        .passwords
        .verify(Password::new(password), stored)
        .await;
    let Some(user) = user.filter(|_| verified) else {
        // The audit trail may say which (it is not shown to the customer).
        let reason = if known {
            "wrong password"
        } else {
            "unknown user"
        };
        record_failure(&state, &keys, event()).await;
        audit_event(
            &state,
            AuditKind::LoginFailed,
            AuditEvent {
                reason: Some(reason.into()),
                ..event()
            },
        )
        .await;
        step.rejected("password", "wrong username or password");
        return login_page(
            &meta,
            &ctx,
            StatusCode::UNAUTHORIZED,
            typed,
            Some(WRONG_CREDENTIALS.into()),
        );
    };
    // The right password is not a failure: the attempt's count is given back. The account's
    // counter is cleared only when the TOTP step succeeds too.
    if let Err(error) = state.throttle.release(state.pool(), &keys).await {
        tracing::error!(%error, "a throttle count could not be given back");
    }
    if let Err(error) =
        sessions::set_pending_user(state.pool(), &ctx.session.id_hash, Some(&user.id)).await
    {
        return server_page(meta.request_id.as_str(), &error);
    }
    step.ok("password verified; TOTP code requested");
    Redirect::to(&format!("{}?request={}", paths::LOGIN_TOTP, ctx.request_id)).into_response()
}

/// `unknown:` and the first 64 bits of the name's SHA-256, in hex. Not a secret-keeping hash
/// (a guessable name can be found by trying), but what reaches the logs is no longer the
/// typed text, which is what matters when that text is a password.
fn unknown_name_fingerprint(name: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("unknown:{hex}")
}
