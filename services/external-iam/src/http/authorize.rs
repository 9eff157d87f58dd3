//! `GET /authorize` (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};

use super::code::{error_redirect, issue_code};
use super::pages::error_page;
use super::request::{RequestMeta, cookie, session_cookie, session_cookie_name};
use crate::config::{PENDING_AUTHORIZATION_LIFETIME, secs};
use crate::oauth::authorize::{self, AuthorizeError, ErrorRedirect, Prompt, oidc_errors};
use crate::oauth::params::Params;
use crate::state::{AppState, paths};
use crate::store::{clients, sessions, users};

pub async fn authorize(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let rid = meta.request_id.as_str();
    let page = |status: StatusCode, message: &str| {
        error_page(
            status,
            rid,
            "This sign-in request cannot be processed",
            message,
        )
    };
    let params = match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(error) => {
            return page(
                StatusCode::BAD_REQUEST,
                &format!("Invalid request: {error}."),
            );
        }
    };
    let client = match params.get("client_id") {
        Some(id) => match clients::get(state.pool(), id).await {
            Ok(client) => client,
            Err(error) => return page(StatusCode::INTERNAL_SERVER_ERROR, super::internal(&error)),
        },
        None => None,
    };
    let (client, redirect_uri) = match authorize::check_client(&params, client.as_ref()) {
        Ok(ok) => ok,
        Err(AuthorizeError::Page(message)) => {
            tracing::info!(reason = %message, "authorization request refused without redirect");
            return page(StatusCode::BAD_REQUEST, &message);
        }
        Err(AuthorizeError::Redirect(redirect)) => return error_redirect(&state, &redirect),
    };
    let request = match authorize::validate(&params, client, redirect_uri) {
        Ok(request) => request,
        Err(AuthorizeError::Redirect(redirect)) => {
            tracing::info!(error = redirect.error, reason = %redirect.description, "authorization request refused");
            return error_redirect(&state, &redirect);
        }
        Err(AuthorizeError::Page(message)) => return page(StatusCode::BAD_REQUEST, &message),
    };

    let now = state.now();
    let https = state.config.issuer.is_https();
    let existing = match cookie(&headers, session_cookie_name(https)) {
        Some(value) => match sessions::get(state.pool(), &value, now).await {
            Ok(session) => session,
            Err(error) => return page(StatusCode::INTERNAL_SERVER_ERROR, super::internal(&error)),
        },
        None => None,
    };

    // Single sign-on: an authenticated session answers at once, unless the client asked for a
    // fresh login or the login is older than `max_age`.
    if let Some(session) = &existing
        && let Some((user_id, sid, auth_time)) = session.authenticated()
        && request.prompt != Prompt::Login
        && request.max_age.is_none_or(|max| now - auth_time <= max)
    {
        match users::by_id(state.pool(), user_id).await {
            Ok(Some(user)) => {
                return issue_code(&state, &meta, &request, &user, sid, auth_time).await;
            }
            Ok(None) => {} // the account was removed: log in again
            Err(error) => return page(StatusCode::INTERNAL_SERVER_ERROR, super::internal(&error)),
        }
    }
    if request.prompt == Prompt::None {
        return error_redirect(
            &state,
            &ErrorRedirect {
                redirect_uri: request.redirect_uri.clone(),
                state: request.state.clone(),
                error: oidc_errors::LOGIN_REQUIRED,
                description: "the customer is not signed in".into(),
            },
        );
    }

    let lifetime = secs(state.config.session_lifetime);
    let (session, new_cookie) = match existing {
        Some(session) => (session, None),
        None => match sessions::create(state.pool(), &state.rng, now, lifetime).await {
            Ok((value, session)) => (session, Some(value)),
            Err(error) => return page(StatusCode::INTERNAL_SERVER_ERROR, super::internal(&error)),
        },
    };
    let json = match serde_json::to_string(&request) {
        Ok(json) => json,
        Err(error) => return page(StatusCode::INTERNAL_SERVER_ERROR, super::internal(&error)),
    };
    let pending = match sessions::insert_pending(
        state.pool(),
        &state.rng,
        &session.id_hash,
        &json,
        now,
        PENDING_AUTHORIZATION_LIFETIME,
    )
    .await
    {
        Ok(id) => id,
        Err(error) => return page(StatusCode::INTERNAL_SERVER_ERROR, super::internal(&error)),
    };
    let mut response = Redirect::to(&format!("{}?request={pending}", paths::LOGIN)).into_response();
    if let Some(value) = new_cookie
        && let Some(cookie) = session_cookie(https, value.expose(), lifetime)
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
