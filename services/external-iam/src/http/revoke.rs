//! `POST /revoke` (RFC 7009).
//!
//! Revoking a refresh token revokes its whole family, access tokens included (RFC 7009 §2.1
//! allows, and recommends, dropping the grant). Revoking an access token marks it revoked for
//! introspection and UserInfo; resource servers that validate the JWT locally keep accepting it
//! until it expires, which is why access tokens live minutes. Tokens that are unknown, already
//! invalid or another client's get the same 200 (§2.2), so the endpoint reveals nothing.

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use tokens::claims::AccessTokenClaims;
use wire::OAuthError;
use wire::jose::TYP_ACCESS_TOKEN;

use super::audit::{audit_event, meta_event};
use super::request::{RequestMeta, read_form};
use super::token::{authenticate_client, form_error};
use crate::auth::opaque::Opaque;
use crate::oauth::own_tokens;
use crate::state::AppState;
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::tokens::{self as token_store, reasons};

pub async fn revoke(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match read_form(&headers, body, state.config.max_form_bytes).await {
        Ok(params) => params,
        Err(error) => return form_error(error),
    };
    let client = match authenticate_client(&state, &meta, &headers, &params).await {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
    let Some(token) = params.get("token") else {
        return OAuthError::invalid_request("token is required").into_response();
    };
    let now = state.now();
    let pool = state.pool();
    let event = |user: &str, reason: String| AuditEvent {
        client_id: Some(client.client_id.clone()),
        user_id: Some(user.to_owned()),
        reason: Some(reason),
        ..meta_event(&meta)
    };
    let result = if let Some(refresh) = Opaque::presented(token) {
        match token_store::get_refresh(pool, &refresh.hashed()).await {
            Ok(Some(grant)) if grant.client_id == client.client_id => {
                let done = token_store::revoke_family(
                    pool,
                    &grant.family_id,
                    reasons::REVOKED_BY_CLIENT,
                    now,
                )
                .await;
                if done.is_ok() {
                    audit_event(
                        &state,
                        AuditKind::TokenRevoked,
                        event(
                            &grant.user_id,
                            format!("refresh token; family {}", grant.family_id),
                        ),
                    )
                    .await;
                }
                done.map(|_| ())
            }
            Ok(_) => Ok(()),
            Err(error) => Err(error),
        }
    } else {
        match own_tokens::verify::<AccessTokenClaims>(&state, token, TYP_ACCESS_TOKEN, true) {
            Ok(claims) if claims.client_id == client.client_id => {
                let done = token_store::revoke_access(pool, &claims.jti, now).await;
                if done.is_ok() {
                    audit_event(
                        &state,
                        AuditKind::TokenRevoked,
                        event(&claims.sub, format!("access token jti {}", claims.jti)),
                    )
                    .await;
                }
                done
            }
            _ => Ok(()),
        }
    };
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => OAuthError::server_error(super::internal(&error)).into_response(),
    }
}
