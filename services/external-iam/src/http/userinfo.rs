//! `GET|POST /userinfo` (OpenID Connect Core §5.3), a protected resource of this provider:
//! DPoP-bound tokens need their proof (RFC 9449 §7), and a bound token sent as Bearer is
//! refused (§7.2).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method};
use serde_json::json;
use tokens::claims::AccessTokenClaims;
use tokens::dpop::{Presentation, check_presentation, credentials, proof_header};
use wire::jose::TYP_ACCESS_TOKEN;
use wire::{DpopChallenge, OAuthError};

use crate::oauth::own_tokens::{self, OwnTokenError};
use crate::state::AppState;
use crate::store::{tokens as token_store, users};

pub async fn userinfo(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    match answer(&state, &method, &headers).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// RFC 9449 §7.1: a missing proof is `invalid_dpop_proof`; a bound token as Bearer, or an
/// unbound one with the DPoP scheme, is `invalid_token`.
fn presentation_error(challenge: &DpopChallenge, error: &tokens::DpopError) -> OAuthError {
    match error.error_code() {
        tokens::dpop::INVALID_DPOP_PROOF => challenge.invalid_dpop_proof(error.to_string()),
        tokens::dpop::INVALID_REQUEST => challenge.invalid_request(error.to_string()),
        _ => challenge.invalid_token(error.to_string()),
    }
}

fn challenge() -> Result<DpopChallenge, OAuthError> {
    DpopChallenge::new("external-iam", &["ES256", "EdDSA"])
        .map_err(|_| OAuthError::server_error("internal error"))
}

async fn answer(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, OAuthError> {
    let challenge = challenge()?;
    let creds = credentials(headers)
        .map_err(|e| challenge.invalid_request(e.to_string()))?
        .ok_or_else(|| challenge.missing_credentials())?;
    let proof = proof_header(headers).map_err(|e| challenge.invalid_dpop_proof(e.to_string()))?;
    let claims: AccessTokenClaims = own_tokens::verify(state, creds.token, TYP_ACCESS_TOKEN, false)
        .map_err(|e: OwnTokenError| challenge.invalid_token(e.to_string()))?;
    if !claims.aud.contains(&state.urls.userinfo) {
        return Err(challenge.invalid_token("the access token is not for the UserInfo endpoint"));
    }
    match check_presentation(creds.scheme, claims.dpop_jkt(), proof.is_some())
        .map_err(|e| presentation_error(&challenge, &e))?
    {
        Presentation::Dpop { jkt } => {
            state
                .dpop
                .verify(
                    proof.unwrap_or_default(),
                    method,
                    &state.urls.userinfo_htu,
                    Some(creds.token),
                    Some(jkt),
                )
                .map_err(|e| challenge.invalid_dpop_proof(e.to_string()))?;
        }
        Presentation::Bearer => {}
    }
    let record = token_store::get_access(state.pool(), &claims.jti)
        .await
        .map_err(|e| OAuthError::server_error(super::internal(&e)))?;
    if record.is_none_or(|r| r.revoked_at.is_some()) {
        return Err(challenge.invalid_token("the access token has been revoked"));
    }
    if !claims.scope.contains(wire::scopes::OPENID) {
        return Err(challenge
            .insufficient_scope(wire::scopes::OPENID, "UserInfo requires the openid scope"));
    }
    let user = users::by_id(state.pool(), &claims.sub)
        .await
        .map_err(|e| OAuthError::server_error(super::internal(&e)))?
        .ok_or_else(|| challenge.invalid_token("the account no longer exists"))?;
    let mut body = json!({ "sub": user.id });
    if claims.scope.contains(wire::scopes::PROFILE) {
        body["preferred_username"] = json!(user.username);
        if let Some(name) = &user.display_name {
            body["name"] = json!(name);
        }
    }
    if claims.scope.contains(crate::oauth::EMAIL_SCOPE)
        && let Some(email) = &user.email
    {
        body["email"] = json!(email);
    }
    Ok(Json(body).into_response())
}
