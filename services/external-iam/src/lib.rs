//! The customer-facing OpenID Connect provider of the system (design steps 2–8).
//!
//! - Authorization code flow with PKCE (S256 only), exact redirect URI matching, RFC 8707
//!   resources, RFC 9207 `iss` in every redirect.
//! - Login with a password (argon2id) and a TOTP code (RFC 6238, replay-protected), throttled
//!   per account and per IP, CSRF-protected, with a rotated SSO session.
//! - A token endpoint for `authorization_code` and `refresh_token` (rotating, reuse-detecting),
//!   `client_secret_basic` and `private_key_jwt`, DPoP-bound (RFC 9449) JWT access tokens
//!   (RFC 9068) and OpenID Connect ID tokens.
//! - UserInfo, introspection (RFC 7662), revocation (RFC 7009), RP-initiated logout, discovery
//!   (OpenID Connect Discovery, RFC 8414) and a JWKS of rotatable ES256 keys kept in the
//!   database.
//!
//! [`App`] builds and runs the server; [`admin`] holds the operator commands of the binary.

pub mod admin;
mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod http;
pub mod mfa;
pub mod oauth;
pub mod state;
pub mod store;

pub use app::{App, StartError, open_storage};
pub use config::{Config, Issuer, ThrottlePolicy};
