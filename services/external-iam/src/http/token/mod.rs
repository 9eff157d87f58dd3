//! `POST /token`: the authorization code grant (design steps 7 and 8) and the refresh token
//! grant (RFC 6749 §4.1.3, §6; RFC 7636 §4.5; RFC 9449 §5).
//!
//! **DPoP and refresh tokens.** RFC 9449 §5 requires refresh tokens of public clients to be
//! bound to the DPoP key and leaves confidential clients free. Here every refresh token issued
//! with a DPoP proof is bound to that key, whatever the client: a stolen refresh token of the
//! web app is then useless without both its client secret and its DPoP key. A refresh with a
//! bound token must carry a proof by the same key. Public clients must use DPoP.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use telemetry::StepTimer;
use tokens::DpopError;
use tokens::dpop::{VerifiedProof, proof_header};
use wire::{DpopNonce, GrantType, OAuthError, Program, steps};

use super::audit::{audit_event, meta_event};
use super::request::{FormError, RequestMeta, read_form};
use crate::oauth::client_auth::{self, AssertionAudiences, EndpointError};
use crate::oauth::issue::TokenResponse;
use crate::oauth::params::Params;
use crate::state::{AppState, Shared};
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::clients::Client;

mod code_grant;
mod refresh_grant;

use code_grant::redeem_code;
use refresh_grant::refresh;

/// A form-reading failure as the OAuth error RFC 6749 §5.2 calls for; an oversized body keeps
/// its own status, 413, with the same JSON shape.
pub fn form_error(error: FormError) -> Response {
    let description = error.to_string();
    let mut response = OAuthError::invalid_request(description).into_response();
    if matches!(error, FormError::TooLarge(_)) {
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    }
    response
}

/// Client authentication for this server's endpoints.
pub async fn authenticate_client(
    state: &Shared,
    meta: &RequestMeta,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Client, EndpointError> {
    let audiences = AssertionAudiences {
        token_endpoint: state.urls.token.clone(),
        issuer: state.config.issuer.as_str().to_owned(),
    };
    let result = client_auth::authenticate(
        state.pool(),
        headers,
        params,
        &audiences,
        state.clock.clone(),
    )
    .await;
    if let Err(error) = &result {
        audit_event(
            state,
            AuditKind::ClientAuthFailed,
            AuditEvent {
                client_id: params.get("client_id").map(str::to_owned),
                reason: Some(error.oauth().to_string()),
                ..meta_event(meta)
            },
        )
        .await;
    }
    result
}

pub async fn token(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match read_form(&headers, body, state.config.max_form_bytes).await {
        Ok(params) => params,
        Err(error) => return form_error(error),
    };
    let grant = match params.get("grant_type") {
        None => return OAuthError::invalid_request("grant_type is required").into_response(),
        Some(text) => match text.parse::<GrantType>() {
            Ok(grant @ (GrantType::AuthorizationCode | GrantType::RefreshToken)) => grant,
            Ok(_) | Err(_) => {
                return OAuthError::unsupported_grant_type(
                    "only authorization_code and refresh_token are supported",
                )
                .into_response();
            }
        },
    };
    let code_step = (grant == GrantType::AuthorizationCode)
        .then(|| StepTimer::start(Program::ExternalIam, steps::CODE_REDEEMED, &meta.request_id));
    let client = match authenticate_client(&state, &meta, &headers, &params).await {
        Ok(client) => client,
        Err(error) => {
            if let Some(step) = code_step {
                step.rejected("client authentication", &error.oauth().to_string());
            }
            return error.into_response();
        }
    };
    let result = match grant {
        GrantType::AuthorizationCode => {
            redeem_code(&state, &meta, &headers, &params, &client, code_step).await
        }
        _ => refresh(&state, &meta, &headers, &params, &client).await,
    };
    match result {
        Ok(tokens) => success(&state, tokens),
        Err(error) => error.into_response(),
    }
}

/// 200 with the tokens, `Cache-Control: no-store` (RFC 6749 §5.1), and a fresh DPoP nonce when
/// nonces are in use (RFC 9449 §8.2).
fn success(state: &Shared, tokens: TokenResponse) -> Response {
    let mut response = Json(&tokens).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(nonce) = state.dpop.fresh_nonce()
        && let Ok(value) = HeaderValue::from_str(&nonce)
    {
        headers.insert(wire::headers::DPOP_NONCE, value);
    }
    response
}

/// The DPoP proof of a token request, checked against `expected_jkt` when the grant is bound.
/// `required` refuses a request without a proof.
fn check_dpop(
    state: &Shared,
    headers: &HeaderMap,
    expected_jkt: Option<&str>,
    required: Option<&'static str>,
) -> Result<Option<VerifiedProof>, OAuthError> {
    let proof = proof_header(headers).map_err(dpop_error)?;
    let Some(proof) = proof else {
        return match (expected_jkt, required) {
            (Some(_), _) => Err(OAuthError::invalid_dpop_proof(
                "a DPoP proof is required: this grant is bound to a DPoP key",
            )),
            (None, Some(why)) => Err(OAuthError::invalid_dpop_proof(why)),
            (None, None) => Ok(None),
        };
    };
    state
        .dpop
        .verify(
            proof,
            &Method::POST,
            &state.urls.token_htu,
            None,
            expected_jkt,
        )
        .map(Some)
        .map_err(dpop_error)
}

fn dpop_error(error: DpopError) -> OAuthError {
    match error.fresh_nonce().and_then(|n| DpopNonce::new(n).ok()) {
        Some(nonce) => OAuthError::use_dpop_nonce(nonce, error.to_string()),
        None => match error {
            DpopError::JktMismatch { .. } => OAuthError::invalid_dpop_proof(
                "the DPoP proof is signed by another key than the one this grant is bound to",
            ),
            other => OAuthError::invalid_dpop_proof(other.to_string()),
        },
    }
}

const PUBLIC_CLIENTS_NEED_DPOP: &str = "public clients must send a DPoP proof";

fn sqlx_error(error: sqlx::Error) -> OAuthError {
    OAuthError::server_error(crate::http::internal(&error))
}

fn store_error(error: crate::store::StoreError) -> OAuthError {
    OAuthError::server_error(crate::http::internal(&error))
}
