//! The second form: the TOTP code (design step 4), then the session rotation and the code
//! (design step 5).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use telemetry::StepTimer;
use wire::{Program, steps};

use super::{EXPIRED, PendingQuery, context, form_context, record_failure, server_page, totp_page};
use crate::auth::throttle::Keys;
use crate::config::secs;
use crate::http::audit::{audit_event, meta_event};
use crate::http::code::issue_code;
use crate::http::pages::{error_page, with_retry_after};
use crate::http::request::{RequestMeta, session_cookie};
use crate::mfa::TotpError;
use crate::state::{AppState, paths};
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::sessions;
use crate::store::users;

/// `GET /login/totp?request=…`: the code form.
pub async fn totp_form(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Query(query): Query<PendingQuery>,
) -> Response {
    match context(&state, &meta, &headers, query.request.as_deref()).await {
        Ok(ctx) if ctx.session.pending_user_id.is_some() => {
            totp_page(&meta, &ctx, StatusCode::OK, None)
        }
        Ok(ctx) => {
            Redirect::to(&format!("{}?request={}", paths::LOGIN, ctx.request_id)).into_response()
        }
        Err(page) => page,
    }
}

/// `POST /login/totp`: checks the code, completes the login, issues the authorization code.
pub async fn totp_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let step = StepTimer::start(
        Program::ExternalIam,
        steps::CREDENTIALS_VERIFIED,
        &meta.request_id,
    );
    let (params, ctx) = match form_context(&state, &meta, &headers, body).await {
        Ok(ok) => ok,
        Err(page) => {
            step.rejected("TOTP form", "form, session or CSRF token invalid");
            return page;
        }
    };
    let rid = meta.request_id.as_str();
    let Some(user_id) = ctx.session.pending_user_id.clone() else {
        step.rejected("TOTP form", "no password verified in this session");
        return Redirect::to(&format!("{}?request={}", paths::LOGIN, ctx.request_id))
            .into_response();
    };
    let user = match users::by_id(state.pool(), &user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => return error_page(StatusCode::BAD_REQUEST, rid, "Sign-in expired", EXPIRED),
        Err(error) => return server_page(rid, &error),
    };
    let keys = Keys::new(&user.username, &meta.ip);
    let now = state.now();
    let event = || AuditEvent {
        client_id: Some(ctx.request.client_id.clone()),
        user_id: Some(user.id.clone()),
        username: Some(user.username.clone()),
        ..meta_event(&meta)
    };
    match state.throttle.reserve(state.pool(), &keys, now).await {
        Ok(None) => {}
        Ok(Some(refusal)) => {
            audit_event(
                &state,
                AuditKind::MfaFailed,
                AuditEvent {
                    reason: Some("throttled".into()),
                    ..event()
                },
            )
            .await;
            step.rejected("throttle", "too many failed attempts");
            let page = totp_page(
                &meta,
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                Some(refusal.message(now)),
            );
            return with_retry_after(page, refusal.retry_after(now));
        }
        Err(error) => return server_page(rid, &error),
    }

    let code = params.get("code").unwrap_or_default().trim();
    let outcome = match user.totp.verify(code, now, user.totp_last_step) {
        Ok(matched) => match users::consume_totp_step(state.pool(), &user.id, matched).await {
            Ok(true) => Ok(()),
            // Another request consumed this step between the read and the write.
            Ok(false) => Err(TotpError::Replayed),
            Err(error) => return server_page(rid, &error),
        },
        Err(error) => Err(error),
    };
    if let Err(error) = outcome {
        let (reason, message) = match error {
            TotpError::Replayed => (
                "TOTP code replayed",
                "This code was already used. Wait for the next code and enter it.",
            ),
            TotpError::Malformed | TotpError::Wrong => (
                "wrong TOTP code",
                "The code is incorrect. Enter the current 6-digit code.",
            ),
        };
        record_failure(&state, &keys, event()).await;
        audit_event(
            &state,
            AuditKind::MfaFailed,
            AuditEvent {
                reason: Some(reason.into()),
                ..event()
            },
        )
        .await;
        step.rejected("TOTP", reason);
        return totp_page(&meta, &ctx, StatusCode::UNAUTHORIZED, Some(message.into()));
    }

    if let Err(error) = state.throttle.record_success(state.pool(), &keys).await {
        tracing::error!(%error, "a throttle counter could not be cleared");
    }
    let lifetime = secs(state.config.session_lifetime);
    let (cookie_value, session) = match sessions::complete_login(
        state.pool(),
        &state.rng,
        &ctx.session,
        &user.id,
        now,
        lifetime,
    )
    .await
    {
        Ok(ok) => ok,
        // Another tab finished (or ended) this sign-in first.
        Err(crate::store::StoreError::Invalid(_)) => {
            return error_page(StatusCode::BAD_REQUEST, rid, "Sign-in expired", EXPIRED);
        }
        Err(error) => return server_page(rid, &error),
    };
    audit_event(
        &state,
        AuditKind::LoginSucceeded,
        AuditEvent {
            reason: Some("pwd+otp".into()),
            ..event()
        },
    )
    .await;
    step.ok("password and TOTP verified; session rotated");
    if let Err(error) = sessions::delete_pending(state.pool(), &ctx.request_id).await {
        tracing::error!(%error, "a pending request could not be removed");
    }
    let sid = session.sid.clone().unwrap_or_default();
    let mut response = issue_code(&state, &meta, &ctx.request, &user, &sid, now).await;
    let https = state.config.issuer.is_https();
    if let Some(cookie) = session_cookie(https, cookie_value.expose(), lifetime) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
