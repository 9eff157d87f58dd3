//! Why a token was rejected: one variant per check, each safe to log.

use crate::jws::JwsError;

/// Why [`crate::Validator::validate`] rejected a token.
///
/// Every variant names the check that failed, so the log line says why (the design asks for
/// each rejection to be logged with its reason). `Display` never contains the token. Values
/// copied from the token (a `kid`, a `typ`, an issuer) are shortened and printed quoted with
/// escapes, so a hostile header cannot forge or flood log lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// Size, structure, encoding, `alg` (including `none` and HMAC), `crit`, or the signature.
    #[error(transparent)]
    Jws(#[from] JwsError),
    /// `found` is `None` when the header has no `typ` (or a non-string one).
    #[error("the token's `typ` is {}, but {expected} is required", typ_shown(.found))]
    WrongTyp {
        expected: String,
        found: Option<String>,
    },
    #[error("the header has no string `kid`; keys are chosen by `kid` only")]
    MissingKid,
    #[error("no key with `kid` {0:?} is published by the issuer, even after a refresh")]
    UnknownKid(String),
    #[error("the issuer's keys are unavailable: {0}")]
    KeysUnavailable(String),
    #[error("the claim `{0}` appears more than once")]
    DuplicateClaim(&'static str),
    #[error("the claim `{claim}` must be {expected}")]
    InvalidClaim {
        claim: &'static str,
        expected: &'static str,
    },
    #[error("the claim `{0}` is not a NumericDate (a JSON number of seconds)")]
    NotANumericDate(&'static str),
    #[error("the required claim `{0}` is missing")]
    MissingClaim(String),
    #[error("the issuer is {found:?}, but {expected:?} is required")]
    WrongIssuer { expected: String, found: String },
    #[error("the audience does not include {expected:?}")]
    WrongAudience { expected: String },
    #[error("the token expired at {exp} (now {now})")]
    Expired { exp: i64, now: i64 },
    #[error("the token is not valid before {nbf} (now {now})")]
    NotYetValid { nbf: i64, now: i64 },
    #[error("the token claims to be issued at {iat}, in the future (now {now})")]
    IssuedInFuture { iat: i64, now: i64 },
    #[error("the token is valid until {exp}, beyond the {max_seconds}-second maximum lifetime")]
    LifetimeTooLong { exp: i64, max_seconds: i64 },
    #[error("the token does not grant the scope {0:?}")]
    InsufficientScope(String),
    #[error("the claims do not have the expected shape: {0}")]
    ClaimsShape(String),
}

impl ValidationError {
    /// The OAuth `error` code for a protected resource's response (RFC 6750 §3.1).
    ///
    /// Every fault of the token itself is `invalid_token`; a missing scope is
    /// `insufficient_scope`. When the issuer's keys cannot be had at all, the token was never
    /// judged, so this is the server's fault, not the client's: `temporarily_unavailable`
    /// (RFC 6749 §4.1.2.1) with HTTP 503, see [`Self::http_status`].
    pub fn oauth_error_code(&self) -> &'static str {
        match self {
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::KeysUnavailable(_) => "temporarily_unavailable",
            _ => "invalid_token",
        }
    }

    /// The HTTP status that goes with [`Self::oauth_error_code`] (RFC 6750 §3.1).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::InsufficientScope(_) => 403,
            Self::KeysUnavailable(_) => 503,
            _ => 401,
        }
    }
}

fn typ_shown(found: &Option<String>) -> String {
    found
        .as_deref()
        .map_or_else(|| "absent".to_owned(), |typ| format!("{typ:?}"))
}

/// A value copied from a token into an error message, shortened to a bounded length.
/// (Escaping happens where it is displayed, with `{:?}`.)
pub(crate) fn shown(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    match value.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}...", &value[..end]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_shortened_and_escaped_in_messages() {
        let kid = format!("evil\n{}", "k".repeat(500));
        let message = ValidationError::UnknownKid(shown(&kid)).to_string();
        assert!(!message.contains('\n'));
        assert!(message.contains("evil\\n"));
        assert!(message.len() < 200);
    }

    #[test]
    fn error_codes_follow_rfc_6750() {
        assert_eq!(
            ValidationError::Expired { exp: 1, now: 2 }.oauth_error_code(),
            "invalid_token"
        );
        assert_eq!(
            ValidationError::Jws(JwsError::AlgNone).oauth_error_code(),
            "invalid_token"
        );
        let scope = ValidationError::InsufficientScope("agent:invoke".into());
        assert_eq!(
            (scope.oauth_error_code(), scope.http_status()),
            ("insufficient_scope", 403)
        );
        let down = ValidationError::KeysUnavailable("timeout".into());
        assert_eq!(down.http_status(), 503);
    }
}
