//! Token type identifiers of RFC 8693 §3 (`subject_token_type`, `requested_token_type`,
//! `issued_token_type`) and the `token_type` values of token responses.

use std::fmt;
use std::str::FromStr;

/// A token type URN (RFC 8693 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// An OAuth access token (RFC 8693 §3): the customer's token, as `subject_token_type`.
    AccessToken,
    /// An OAuth refresh token (RFC 8693 §3).
    RefreshToken,
    /// An OpenID Connect ID token (RFC 8693 §3).
    IdToken,
    /// A JWT of unspecified kind (RFC 8693 §3).
    Jwt,
    /// A transaction token (draft-ietf-oauth-transaction-tokens, "Txn-Token Request"), as
    /// `requested_token_type` and `issued_token_type`.
    TxnToken,
}

impl TokenType {
    /// Every token type this system names.
    pub const ALL: [Self; 5] = [
        Self::AccessToken,
        Self::RefreshToken,
        Self::IdToken,
        Self::Jwt,
        Self::TxnToken,
    ];

    /// The URN.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "urn:ietf:params:oauth:token-type:access_token",
            Self::RefreshToken => "urn:ietf:params:oauth:token-type:refresh_token",
            Self::IdToken => "urn:ietf:params:oauth:token-type:id_token",
            Self::Jwt => "urn:ietf:params:oauth:token-type:jwt",
            Self::TxnToken => "urn:ietf:params:oauth:token-type:txn_token",
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token type URN this system does not know. A token exchange with one is rejected with
/// `invalid_request` (RFC 8693 §2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported token type")]
pub struct UnsupportedTokenType;

impl FromStr for TokenType {
    type Err = UnsupportedTokenType;

    /// Exact match: the URNs are compared as the registry spells them.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or(UnsupportedTokenType)
    }
}

/// `token_type` of an access token bound to a DPoP key (RFC 9449 §5).
pub const TOKEN_TYPE_DPOP: &str = "DPoP";
/// `token_type` of a bearer (here: certificate-bound, RFC 8705) access token (RFC 6750 §4).
pub const TOKEN_TYPE_BEARER: &str = "Bearer";
/// `token_type` when the issued token is not an access token, e.g. a transaction token
/// (RFC 8693 §2.2.1).
pub const TOKEN_TYPE_NOT_APPLICABLE: &str = "N_A";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_token_type() {
        for kind in TokenType::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
    }

    #[test]
    fn txn_token_urn_is_the_drafts_value() {
        assert_eq!(
            TokenType::TxnToken.as_str(),
            "urn:ietf:params:oauth:token-type:txn_token"
        );
    }

    #[test]
    fn rejects_unknown_token_types() {
        for value in [
            "",
            "access_token",
            "urn:ietf:params:oauth:token-type:saml2",
            "urn:ietf:params:oauth:token-type:txn-token",
        ] {
            assert_eq!(
                value.parse::<TokenType>(),
                Err(UnsupportedTokenType),
                "{value:?}"
            );
        }
    }
}
