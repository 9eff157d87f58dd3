//! The OAuth error codes this system sends (`error` in JSON bodies, redirects and
//! `WWW-Authenticate`).

use std::fmt;

/// An OAuth error code, with the section that defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Missing, repeated or malformed parameter (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1).
    InvalidRequest,
    /// Client authentication failed (RFC 6749 §5.2).
    InvalidClient,
    /// Authorization code, refresh token or subject token invalid, expired, revoked or replayed
    /// (RFC 6749 §5.2).
    InvalidGrant,
    /// The authenticated client may not use this grant or request (RFC 6749 §4.1.2.1, §5.2).
    UnauthorizedClient,
    /// The grant type is not supported (RFC 6749 §5.2).
    UnsupportedGrantType,
    /// The response type is not supported (RFC 6749 §4.1.2.1).
    UnsupportedResponseType,
    /// The requested scope is invalid, unknown or exceeds what was granted (RFC 6749 §4.1.2.1, §5.2).
    InvalidScope,
    /// The customer or the server denied the request (RFC 6749 §4.1.2.1).
    AccessDenied,
    /// Unexpected condition at the authorization server (RFC 6749 §4.1.2.1).
    ServerError,
    /// Temporary overload or maintenance (RFC 6749 §4.1.2.1).
    TemporarilyUnavailable,
    /// The access token is expired, revoked, malformed or invalid otherwise (RFC 6750 §3.1).
    InvalidToken,
    /// The access token lacks a required scope (RFC 6750 §3.1).
    InsufficientScope,
    /// The requested audience or resource is unknown or not allowed for this client (RFC 8707 §2,
    /// used by token exchange per RFC 8693 §2.2.2).
    InvalidTarget,
    /// The DPoP proof is missing or invalid (RFC 9449 §5 at the token endpoint, §7.1 at a
    /// resource server).
    InvalidDpopProof,
    /// The DPoP proof must carry the server-provided nonce (RFC 9449 §8 at the token endpoint,
    /// §9 at a resource server).
    UseDpopNonce,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [Self; 15] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::UnsupportedResponseType,
        Self::InvalidScope,
        Self::AccessDenied,
        Self::ServerError,
        Self::TemporarilyUnavailable,
        Self::InvalidToken,
        Self::InsufficientScope,
        Self::InvalidTarget,
        Self::InvalidDpopProof,
        Self::UseDpopNonce,
    ];

    /// The code as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
        }
    }

    /// Reads a code from a peer's error response; `None` for a code this system does not know.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == value)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_code() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
    }

    /// RFC 6749 §5.2: `error = 1*( %x20-21 / %x23-5B / %x5D-7E )`; ours are all snake_case.
    #[test]
    fn codes_are_lower_snake_case() {
        for code in ErrorCode::ALL {
            assert!(
                code.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
        }
    }

    #[test]
    fn unknown_codes_are_not_guessed() {
        assert_eq!(ErrorCode::parse("INVALID_TOKEN"), None);
        assert_eq!(ErrorCode::parse("login_required"), None);
        assert_eq!(ErrorCode::parse(""), None);
    }
}
