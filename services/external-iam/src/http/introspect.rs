//! `POST /introspect` (RFC 7662).
//!
//! Policy (RFC 7662 §2.1 leaves it to the server): a client may introspect only tokens issued
//! to itself. Any other token, like an unknown, expired or revoked one, is `{"active": false}`,
//! so the endpoint cannot be used to learn about other clients' tokens.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde_json::{Value, json};
use tokens::claims::AccessTokenClaims;
use wire::OAuthError;
use wire::jose::TYP_ACCESS_TOKEN;
use wire::token_types::{TOKEN_TYPE_BEARER, TOKEN_TYPE_DPOP};

use super::request::{RequestMeta, read_form};
use super::token::{authenticate_client, form_error};
use crate::auth::opaque::Opaque;
use crate::oauth::own_tokens;
use crate::state::{AppState, Shared};
use crate::store::clients::Client;
use crate::store::tokens as token_store;

pub async fn introspect(
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
    match describe(&state, &client, token).await {
        Ok(body) => Json(body).into_response(),
        Err(error) => OAuthError::server_error(super::internal(&error)).into_response(),
    }
}

async fn describe(
    state: &Shared,
    client: &Client,
    token: &str,
) -> Result<Value, crate::store::StoreError> {
    let inactive = json!({ "active": false });
    let now = state.now();
    if let Some(refresh) = Opaque::presented(token) {
        let Some(grant) = token_store::get_refresh(state.pool(), &refresh.hashed()).await? else {
            return Ok(inactive);
        };
        let active = grant.client_id == client.client_id
            && grant.rotated_at.is_none()
            && grant.family_revoked_at.is_none()
            && now < grant.expires_at;
        if !active {
            return Ok(inactive);
        }
        return Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": grant.client_id,
            "sub": grant.user_id,
            "scope": grant.scope.join(" "),
            "exp": grant.expires_at,
            "iat": grant.issued_at,
            "iss": state.config.issuer.as_str(),
        }));
    }
    let Ok(claims) = own_tokens::verify::<AccessTokenClaims>(state, token, TYP_ACCESS_TOKEN, false)
    else {
        return Ok(inactive);
    };
    let record = token_store::get_access(state.pool(), &claims.jti).await?;
    let live = record.is_some_and(|r| r.revoked_at.is_none());
    if !live || claims.client_id != client.client_id {
        return Ok(inactive);
    }
    let mut body = json!({
        "active": true,
        "token_type": if claims.cnf.is_some() { TOKEN_TYPE_DPOP } else { TOKEN_TYPE_BEARER },
        "client_id": claims.client_id,
        "sub": claims.sub,
        "scope": claims.scope.to_string(),
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
    });
    if let Some(cnf) = &claims.cnf {
        body["cnf"] = json!(cnf);
    }
    Ok(body)
}
