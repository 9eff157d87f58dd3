//! The browser-facing HTTP surface: routes, the request middleware, one file per page.

mod callback;
mod chat;
mod current;
mod health;
mod home;
mod login;
mod logout;
pub(crate) mod pages;
mod request;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use request::RequestMeta;

use crate::state::AppState;

/// The paths of every route.
pub mod paths {
    /// The public home page; also the post-logout landing page.
    pub const HOME: &str = "/";
    /// The protected chat page (GET) and the chat action (POST).
    pub const CHAT: &str = "/chat";
    /// Starts a login explicitly (the "sign in" button; switching accounts).
    pub const LOGIN: &str = "/auth/login";
    /// The redirect URI.
    pub const CALLBACK: &str = "/auth/callback";
    /// Ends the session here and at the IAM (POST, CSRF-protected).
    pub const LOGOUT: &str = "/auth/logout";
    /// 200 when the database answers.
    pub const HEALTHZ: &str = "/healthz";
}

/// The largest form body accepted: a chat message of at most 500 characters, URL-encoded (up
/// to 12 bytes a character), and a CSRF token.
pub const MAX_FORM_BYTES: usize = 8 * 1024;

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(paths::HOME, get(home::home))
        .route(paths::CHAT, get(chat::page).post(chat::post))
        .route(paths::LOGIN, get(login::start))
        .route(paths::CALLBACK, get(callback::callback))
        .route(paths::LOGOUT, post(logout::logout))
        .route(paths::HEALTHZ, get(health::healthz))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request::annotate,
        ))
        .with_state(state)
}
