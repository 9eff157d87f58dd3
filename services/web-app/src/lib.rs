//! The web app (namespace-a): the customer's browser talks to it, it logs the customer in at
//! the external IAM and calls Agent B for them. A backend-for-frontend: the browser holds an
//! opaque session cookie and nothing else; the tokens live here.
//!
//! Design steps 1, 2, 6–9 (the login, [`oidc`] and [`http`]), 10, 11, 12 (the chat action
//! and the call to Agent B, [`agent_b`]) and 23 (the answer and the [`timeline`]).
//!
//! - [`config`] and [`cli`]: what the app is told, as values and as flags/environment.
//! - [`oidc`]: discovery, the authorization request, the DPoP-bound code exchange, ID token
//!   validation, refresh and logout, on the `openidconnect` crate.
//! - [`session`]: server-side sessions, the two cookies, CSRF tokens.
//! - [`refresh`]: an access token refreshed before it expires, once per session at a time.
//! - [`agent_b`]: the mTLS client for Agent B.
//! - [`http`]: routes, pages and middleware.
//!
//! [`App`] builds and runs the server.

pub mod agent_b;
mod app;
pub mod cli;
pub mod config;
pub mod http;
pub mod oidc;
pub mod refresh;
pub mod session;
pub mod state;
pub mod timeline;

pub use app::{App, StartError};
pub use config::Config;

/// The embedded migrations (`migrations/`), run at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
