//! The OAuth and OpenID Connect protocol logic, independent of HTTP plumbing.

pub mod authorize;
pub mod client_auth;
pub mod issue;
pub mod own_tokens;
pub mod params;
pub mod pkce;
pub mod redirect_uri;

/// The OpenID Connect `email` scope (OpenID Connect Core §5.4), which the shared scope list does
/// not carry because no other program uses it.
pub const EMAIL_SCOPE: &str = "email";
