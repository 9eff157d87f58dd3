//! Authentication schemes and the strict parsing of `Authorization` credentials.

use std::fmt;

/// An HTTP authentication scheme this system accepts or challenges with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthScheme {
    /// Bearer tokens (RFC 6750 §2.1). Used only for service tokens, which are additionally bound
    /// to the caller's certificate (RFC 8705 §3), on the Agent B → Agent A hop.
    Bearer,
    /// DPoP-bound access tokens (RFC 9449 §7.1): the customer's token on the web app → Agent B hop.
    DPoP,
}

impl AuthScheme {
    /// The scheme name as sent in `Authorization` and `WWW-Authenticate`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
        }
    }

    /// Scheme names are case-insensitive (RFC 9110 §11.1).
    fn matches(self, name: &str) -> bool {
        self.as_str().eq_ignore_ascii_case(name)
    }
}

impl fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an `Authorization` value was not accepted. The variants hold no part of the value: it may
/// be a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// Empty value or no scheme. RFC 6750 §3.1: treat as a request without authentication.
    #[error("no credentials")]
    Missing,
    /// A scheme other than Bearer or DPoP (e.g. `Basic`). RFC 6750 §3.1: treat as a request
    /// without authentication, and challenge.
    #[error("unsupported authentication scheme")]
    UnsupportedScheme,
    /// A scheme without a token, or a token with characters outside `token68` (RFC 9110 §11.2),
    /// e.g. a second token after a space. RFC 6750 §3.1: `invalid_request`.
    #[error("malformed credentials")]
    Malformed,
}

/// A parsed `Authorization` value: `<scheme> 1*SP <token68>` (RFC 9110 §11.4, RFC 6750 §2.1,
/// RFC 9449 §7.1). Borrowing the token avoids another copy of a secret in memory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    scheme: AuthScheme,
    token: &'a str,
}

impl<'a> Credentials<'a> {
    /// Parses an `Authorization` header or `authorization` metadata value.
    pub fn parse(value: &'a str) -> Result<Self, CredentialsError> {
        let (name, rest) = value.split_once(' ').unwrap_or((value, ""));
        if name.is_empty() {
            return Err(CredentialsError::Missing);
        }
        let scheme = [AuthScheme::Bearer, AuthScheme::DPoP]
            .into_iter()
            .find(|scheme| scheme.matches(name))
            .ok_or(CredentialsError::UnsupportedScheme)?;
        let token = rest.trim_start_matches(' ');
        if !is_token68(token) {
            return Err(CredentialsError::Malformed);
        }
        Ok(Self { scheme, token })
    }

    /// The scheme the client used.
    pub const fn scheme(&self) -> AuthScheme {
        self.scheme
    }

    /// The token. Never log it; log its `jti` once validated.
    pub const fn token(&self) -> &'a str {
        self.token
    }
}

/// Redacts the token, so a `{:?}` in a log line cannot leak it.
impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("scheme", &self.scheme)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 9110 §11.2),
/// the same set as RFC 6750's `b64token`.
fn is_token68(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_schemes_case_insensitively() {
        let bearer = Credentials::parse("Bearer abc.def-ghi_jkl").unwrap();
        assert_eq!(bearer.scheme(), AuthScheme::Bearer);
        assert_eq!(bearer.token(), "abc.def-ghi_jkl");

        let dpop = Credentials::parse("dpop  eyJ0eXAi.eyJzdWIi.c2ln==").unwrap();
        assert_eq!(dpop.scheme(), AuthScheme::DPoP);
        assert_eq!(dpop.token(), "eyJ0eXAi.eyJzdWIi.c2ln==");
    }

    #[test]
    fn missing_credentials() {
        assert_eq!(Credentials::parse(""), Err(CredentialsError::Missing));
        assert_eq!(Credentials::parse(" token"), Err(CredentialsError::Missing));
    }

    #[test]
    fn unsupported_schemes() {
        for value in [
            "Basic dXNlcjpwYXNz",
            "Bearerx abc",
            "Token abc",
            "Bearer\tabc",
        ] {
            assert_eq!(
                Credentials::parse(value),
                Err(CredentialsError::UnsupportedScheme),
                "{value:?}"
            );
        }
    }

    #[test]
    fn malformed_tokens() {
        for value in [
            "Bearer",
            "Bearer ",
            "DPoP ===",
            "Bearer abc def",
            "Bearer abc,def",
            "Bearer abc\"",
            "Bearer abc=def",
            "Bearer abc ",
            "Bearer tökén",
        ] {
            assert_eq!(
                Credentials::parse(value),
                Err(CredentialsError::Malformed),
                "{value:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let credentials = Credentials::parse("Bearer secret-token").unwrap();
        assert!(!format!("{credentials:?}").contains("secret-token"));
    }
}
