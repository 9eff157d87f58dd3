//! Grant types of the token endpoint (`grant_type`, RFC 6749 §4).

use std::fmt;
use std::str::FromStr;

/// A grant type this system's authorization servers support. Anything else is rejected with
/// `unsupported_grant_type` (RFC 6749 §5.2) through [`UnsupportedGrantType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// Authorization code with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5): the web app, design step 7.
    AuthorizationCode,
    /// Refresh token, rotated on every use (RFC 6749 §6).
    RefreshToken,
    /// Client credentials over mutual TLS (RFC 6749 §4.4, RFC 8705): Agent B, design step 14.
    ClientCredentials,
    /// Token exchange for a transaction token (RFC 8693 §2.1): Agent B, design step 14.
    TokenExchange,
}

impl GrantType {
    /// Every supported grant type.
    pub const ALL: [Self; 4] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::TokenExchange,
    ];

    /// The `grant_type` parameter value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `grant_type` value this system does not support. Holds no copy of the input: the caller's
/// text is not echoed back into responses or logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported grant type")]
pub struct UnsupportedGrantType;

impl FromStr for GrantType {
    type Err = UnsupportedGrantType;

    /// Exact, case-sensitive match (RFC 6749 §3.1.1: parameter values are compared as strings).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|grant| grant.as_str() == value)
            .ok_or(UnsupportedGrantType)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_grant_type() {
        for grant in GrantType::ALL {
            assert_eq!(grant.as_str().parse(), Ok(grant));
        }
    }

    #[test]
    fn rejects_unknown_and_differently_cased_grant_types() {
        for value in [
            "",
            "password",
            "implicit",
            "Client_Credentials",
            "client_credentials ",
        ] {
            assert_eq!(
                value.parse::<GrantType>(),
                Err(UnsupportedGrantType),
                "{value:?}"
            );
        }
    }
}
