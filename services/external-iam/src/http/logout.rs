//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): `end_session_endpoint`.
//!
//! With a valid `id_token_hint` naming the current session (its `sid`) the session ends at
//! once and the browser goes back to the client's registered `post_logout_redirect_uri`. Without
//! one, the customer is asked to confirm with a CSRF-protected form: otherwise any site could
//! log customers out by embedding a link. Ending a session also revokes the refresh-token
//! families issued from it.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use tokens::claims::IdTokenClaims;
use wire::jose::TYP_JWT;

use super::audit::{audit_event, meta_event};
use super::pages::{LoggedOutPage, LogoutPage, error_page, render};
use super::request::{RequestMeta, cookie, read_form, session_cookie, session_cookie_name};
use crate::mfa::totp::constant_time_eq;
use crate::oauth::own_tokens;
use crate::oauth::params::Params;
use crate::state::{AppState, Shared};
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::clients;
use crate::store::sessions::{self, BrowserSession};
use crate::store::tokens::{self as token_store, reasons};

const TITLE: &str = "Sign-out request cannot be processed";

pub async fn logout_get(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let rid = meta.request_id.as_str();
    let page = |message: &str| error_page(StatusCode::BAD_REQUEST, rid, TITLE, message);
    let params = match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(error) => return page(&format!("Invalid request: {error}.")),
    };
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(token) => match own_tokens::verify::<IdTokenClaims>(&state, token, TYP_JWT, true) {
            Ok(claims) => Some(claims),
            Err(_) => return page("The id_token_hint is not an ID token issued here."),
        },
    };
    let hinted_client = hint
        .as_ref()
        .and_then(|c| c.aud.as_slice().first().cloned());
    if let (Some(asked), Some(hinted)) = (params.get("client_id"), &hinted_client)
        && asked != hinted
    {
        return page("client_id does not match the id_token_hint.");
    }
    let client_id = params.get("client_id").map(str::to_owned).or(hinted_client);
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let client = match &client_id {
                Some(id) => clients::get(state.pool(), id).await.ok().flatten(),
                None => None,
            };
            match client {
                Some(c) if c.post_logout_redirect_uris.iter().any(|u| u == uri) => {
                    Some(uri.to_owned())
                }
                _ => {
                    return page(
                        "The post_logout_redirect_uri is not registered for this application.",
                    );
                }
            }
        }
    };

    let session = current_session(&state, &headers).await;
    let Some(session) = session.filter(|s| s.authenticated().is_some()) else {
        return finish(&state, &meta, redirect, params.get("state"), false);
    };
    // An expired hint is accepted (the spec asks OPs to, as RPs keep the last ID token they
    // had), so the hint must name *this* session: an ID token of an earlier session of the same
    // customer, found in a log or browser history, would otherwise end the current one without
    // asking. Every ID token issued here carries `sid`; one without it is matched by `sub`.
    let hint_matches = hint.as_ref().is_some_and(|claims| match &claims.sid {
        Some(sid) => session.sid.as_ref() == Some(sid),
        None => session.user_id.as_deref() == Some(claims.sub.as_str()),
    });
    if hint_matches {
        end_session(&state, &meta, &session).await;
        return finish(&state, &meta, redirect, params.get("state"), true);
    }
    render(
        StatusCode::OK,
        &LogoutPage {
            request_id: rid,
            csrf_token: &session.csrf_token,
        },
    )
}

pub async fn logout_post(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rid = meta.request_id.as_str();
    let params = match read_form(&headers, body, state.config.max_form_bytes).await {
        Ok(params) => params,
        Err(error) => return error_page(StatusCode::BAD_REQUEST, rid, TITLE, &error.to_string()),
    };
    let Some(session) = current_session(&state, &headers).await else {
        return finish(&state, &meta, None, None, false);
    };
    let sent = params.get("csrf_token").unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
        return error_page(
            StatusCode::FORBIDDEN,
            rid,
            "Form expired",
            "The form was not sent by this page, or it has expired. Reload the page and try again.",
        );
    }
    end_session(&state, &meta, &session).await;
    finish(&state, &meta, None, None, true)
}

async fn current_session(state: &Shared, headers: &HeaderMap) -> Option<BrowserSession> {
    let value = cookie(headers, session_cookie_name(state.config.issuer.is_https()))?;
    sessions::get(state.pool(), &value, state.now())
        .await
        .ok()
        .flatten()
}

async fn end_session(state: &Shared, meta: &RequestMeta, session: &BrowserSession) {
    let now = state.now();
    if let Err(error) = sessions::delete(state.pool(), &session.id_hash).await {
        tracing::error!(%error, "a session could not be ended");
    }
    if let Some(sid) = &session.sid {
        match token_store::families_of_session(state.pool(), sid).await {
            Ok(families) => {
                for family in families {
                    if let Err(error) =
                        token_store::revoke_family(state.pool(), &family, reasons::LOGOUT, now)
                            .await
                    {
                        tracing::error!(%error, "a token family could not be revoked at logout");
                    }
                }
            }
            Err(error) => tracing::error!(%error, "the session's token families could not be read"),
        }
    }
    audit_event(
        state,
        AuditKind::Logout,
        AuditEvent {
            user_id: session.user_id.clone(),
            reason: session.sid.as_ref().map(|sid| format!("sid {sid}")),
            ..meta_event(meta)
        },
    )
    .await;
}

/// Back to the client, or the signed-out page; the session cookie is cleared either way.
fn finish(
    state: &Shared,
    meta: &RequestMeta,
    redirect: Option<String>,
    client_state: Option<&str>,
    clear: bool,
) -> Response {
    let mut response = match redirect {
        Some(uri) => {
            let url = match url::Url::parse(&uri) {
                Ok(mut url) => {
                    if let Some(value) = client_state {
                        url.query_pairs_mut().append_pair("state", value);
                    }
                    url.to_string()
                }
                Err(_) => uri,
            };
            Redirect::to(&url).into_response()
        }
        None => render(
            StatusCode::OK,
            &LoggedOutPage {
                request_id: meta.request_id.as_str(),
            },
        ),
    };
    if clear && let Some(cookie) = session_cookie(state.config.issuer.is_https(), "", 0) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
