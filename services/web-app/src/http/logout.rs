//! `POST /auth/logout`: ends the session here, revokes its refresh token at the IAM, and sends
//! the browser to the IAM's end-session endpoint to end the single sign-on session there too.
//!
//! A POST with the session's CSRF token, not a link: otherwise any page could log customers out
//! by embedding it.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::pages::{error_page, internal_error};
use super::{RequestMeta, current, paths};
use crate::session::{constant_time_eq, store};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf_token: Option<String>,
}

pub async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let request_id = meta.request_id();
    let session = match current::session(&state, &headers).await {
        Ok(session) => session,
        Err(error) => return internal_error(request_id.as_str(), &error),
    };
    let Some(session) = session else {
        // Nothing to end here; the cookie, if any, is stale.
        return clear_cookie(&state, Redirect::to(paths::HOME).into_response());
    };
    let sent = form.ok().and_then(|Form(form)| form.csrf_token);
    let csrf_ok = sent.as_deref().is_some_and(|sent| {
        constant_time_eq(sent.as_bytes(), session.csrf_token.expose().as_bytes())
    });
    if !csrf_ok {
        tracing::warn!("logout refused: CSRF token missing or not this session's");
        return error_page(
            StatusCode::FORBIDDEN,
            request_id.as_str(),
            Some(current::user_view(&session)),
            "This form has expired",
            "You were not signed out: the request did not come from your current page. Use the sign-out button again.",
            false,
        );
    }
    if let Err(error) = store::delete_session(state.pool(), &session.id_hash).await {
        return internal_error(request_id.as_str(), &error);
    }
    state.dpop_keys.forget(&session.id_hash);
    tracing::info!(subject = %session.subject, "customer logged out");
    if let Some(refresh_token) = &session.tokens.refresh_token {
        state.oidc.revoke(refresh_token, request_id).await;
    }
    let target = state
        .oidc
        .end_session_url(&session.tokens.id_token)
        .await
        .map_or_else(|| paths::HOME.to_owned(), |url| url.to_string());
    clear_cookie(&state, Redirect::to(&target).into_response())
}

fn clear_cookie(state: &AppState, mut response: Response) -> Response {
    if let Some(cookie) = state.cookies.clear_session() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
