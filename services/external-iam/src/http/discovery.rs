//! Discovery (OpenID Connect Discovery 1.0 §3, RFC 8414 §2), the JWKS and the health check.
//!
//! The metadata advertises exactly what is implemented, nothing aspirational: a client that
//! trusts it never tries something this server refuses.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde_json::{Value, json};

use crate::state::{AppState, paths};

fn metadata(state: &AppState) -> Value {
    let issuer = &state.config.issuer;
    let algs = ["ES256", "EdDSA"];
    let auth_methods = ["client_secret_basic", "private_key_jwt", "none"];
    json!({
        "issuer": issuer.as_str(),
        "authorization_endpoint": issuer.endpoint(paths::AUTHORIZE),
        "token_endpoint": state.urls.token,
        "userinfo_endpoint": state.urls.userinfo,
        "jwks_uri": issuer.endpoint(paths::JWKS),
        "introspection_endpoint": issuer.endpoint(paths::INTROSPECT),
        "revocation_endpoint": issuer.endpoint(paths::REVOKE),
        "end_session_endpoint": issuer.endpoint(paths::LOGOUT),
        "scopes_supported": [wire::scopes::OPENID, wire::scopes::PROFILE, crate::oauth::EMAIL_SCOPE, wire::scopes::CHATBOT_ACCESS, wire::scopes::AGENT_INVOKE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": algs,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": algs,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "dpop_signing_alg_values_supported": algs,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid",
                             "at_hash", "preferred_username", "name", "email"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

fn cacheable(body: Value, seconds: u32) -> Response {
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={seconds}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

/// `/.well-known/openid-configuration`.
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    cacheable(metadata(&state), 300)
}

/// `/.well-known/oauth-authorization-server` (RFC 8414): the same document.
pub async fn authorization_server(State(state): State<AppState>) -> Response {
    cacheable(metadata(&state), 300)
}

/// The JWK Set: active, staged and still-retained keys. A short `max-age`, so validators see a
/// staged key well before it signs (the staging delay is minutes).
pub async fn jwks(State(state): State<AppState>) -> Response {
    cacheable(state.keys.current().jwks().to_json(), 60)
}

/// Liveness and readiness: the database answers.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(state.pool()).await {
        Ok(_) => (http::StatusCode::OK, "ok").into_response(),
        Err(error) => {
            tracing::error!(%error, "health check: database unavailable");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable",
            )
                .into_response()
        }
    }
}
