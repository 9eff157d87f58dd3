//! The HTTP surface: routes, middleware, and one file per endpoint.

mod audit;
mod authorize;
mod code;
mod discovery;
mod introspect;
mod login;
mod logout;
mod pages;
pub mod request;
mod revoke;
mod token;
mod userinfo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::{AppState, paths};

/// Every route of the provider.
pub fn router(state: AppState) -> Router {
    // Handlers read bodies themselves with the configured limit (and answer with a specific
    // 413); this outer limit is a backstop for anything that does not.
    let backstop = state.config.max_form_bytes.saturating_mul(2);
    Router::new()
        .route(paths::DISCOVERY, get(discovery::openid_configuration))
        .route(paths::AS_METADATA, get(discovery::authorization_server))
        .route(paths::JWKS, get(discovery::jwks))
        .route(paths::HEALTHZ, get(discovery::healthz))
        .route(paths::AUTHORIZE, get(authorize::authorize))
        .route(
            paths::LOGIN,
            get(login::password_form).post(login::password_submit),
        )
        .route(
            paths::LOGIN_TOTP,
            get(login::totp_form).post(login::totp_submit),
        )
        .route(paths::TOKEN, post(token::token))
        .route(
            paths::USERINFO,
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(paths::INTROSPECT, post(introspect::introspect))
        .route(paths::REVOKE, post(revoke::revoke))
        .route(
            paths::LOGOUT,
            get(logout::logout_get).post(logout::logout_post),
        )
        .layer(DefaultBodyLimit::max(backstop))
        .layer(axum::middleware::from_fn(request::annotate))
        .with_state(state)
}

/// Logs a storage failure with its cause and returns the generic description clients see.
pub(crate) fn internal(error: &dyn std::fmt::Display) -> &'static str {
    tracing::error!(%error, "internal error");
    "internal error"
}
