//! `WWW-Authenticate` challenges of the resource servers: Bearer (RFC 6750 §3) for service tokens,
//! DPoP (RFC 9449 §7.1) for the customer's token.
//!
//! A resource server builds its challenge once, from configuration, and derives every rejection
//! from it, so each 401 and 403 carries the challenge the RFCs require.

use super::{ErrorDescription, OAuthError};
use crate::auth_scheme::AuthScheme;
use crate::dpop_nonce::{DpopNonce, is_nqchar};
use crate::error_code::ErrorCode;
use http::StatusCode;

/// Why challenge parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// The realm must be 1 to [`MAX_REALM_LEN`] printable ASCII characters (spaces allowed).
    #[error("realm must be 1 to {MAX_REALM_LEN} printable ASCII characters")]
    InvalidRealm,
    /// A DPoP challenge lists the accepted algorithms (RFC 9449 §7.1), so it needs at least one.
    #[error("a DPoP challenge names at least one algorithm")]
    NoAlgorithms,
    /// An algorithm name outside the JOSE `alg` shape (printable ASCII, no space, quote or backslash).
    #[error("invalid algorithm name")]
    InvalidAlgorithm,
}

/// Upper bound on a realm's length.
pub const MAX_REALM_LEN: usize = 128;

/// The Bearer challenge of a resource server (RFC 6750 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    realm: String,
}

/// The DPoP challenge of a resource server (RFC 9449 §7.1), naming the accepted proof algorithms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopChallenge {
    realm: String,
    algs: String,
}

/// Either challenge, as stored in an [`OAuthError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Bearer(BearerChallenge),
    DPoP(DpopChallenge),
}

impl BearerChallenge {
    /// A challenge for `realm`. RFC 6750 §3 requires at least one auth-param, so the realm is
    /// not optional.
    pub fn new(realm: &str) -> Result<Self, ChallengeError> {
        Ok(Self {
            realm: checked_realm(realm)?,
        })
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// 401 for a request without credentials, or with an unsupported scheme: the challenge only,
    /// no error code (RFC 6750 §3.1).
    pub fn missing_credentials(&self) -> OAuthError {
        OAuthError::resource(self.into(), StatusCode::UNAUTHORIZED, None, None)
    }

    /// 400 `invalid_request` for malformed credentials (RFC 6750 §3.1).
    pub fn invalid_request(&self, description: impl Into<ErrorDescription>) -> OAuthError {
        self.error(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            description,
        )
    }

    /// 401 `invalid_token`: expired, revoked, malformed or otherwise invalid (RFC 6750 §3.1).
    pub fn invalid_token(&self, description: impl Into<ErrorDescription>) -> OAuthError {
        self.error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            description,
        )
    }

    /// 403 `insufficient_scope`, naming the scope the request needs (RFC 6750 §3.1).
    pub fn insufficient_scope(
        &self,
        required_scope: &str,
        description: impl Into<ErrorDescription>,
    ) -> OAuthError {
        self.error(
            StatusCode::FORBIDDEN,
            ErrorCode::InsufficientScope,
            description,
        )
        .with_required_scope(required_scope)
    }

    fn error(
        &self,
        status: StatusCode,
        code: ErrorCode,
        description: impl Into<ErrorDescription>,
    ) -> OAuthError {
        OAuthError::resource(self.into(), status, Some(code), Some(description.into()))
    }
}

impl DpopChallenge {
    /// A challenge for `realm` accepting proofs signed with `algs` (JOSE `alg` values).
    pub fn new(realm: &str, algs: &[&str]) -> Result<Self, ChallengeError> {
        let realm = checked_realm(realm)?;
        if algs.is_empty() {
            return Err(ChallengeError::NoAlgorithms);
        }
        if !algs
            .iter()
            .all(|alg| !alg.is_empty() && alg.bytes().all(is_nqchar))
        {
            return Err(ChallengeError::InvalidAlgorithm);
        }
        Ok(Self {
            realm,
            algs: algs.join(" "),
        })
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The space-delimited algorithm list of the `algs` parameter.
    pub fn algs(&self) -> &str {
        &self.algs
    }

    /// 401 for a request without credentials, or with an unsupported scheme: the challenge only,
    /// no error code (RFC 6750 §3.1, which RFC 9449 §7.1 follows).
    pub fn missing_credentials(&self) -> OAuthError {
        OAuthError::resource(self.into(), StatusCode::UNAUTHORIZED, None, None)
    }

    /// 400 `invalid_request` for malformed credentials (RFC 6750 §3.1).
    pub fn invalid_request(&self, description: impl Into<ErrorDescription>) -> OAuthError {
        self.error(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            description,
        )
    }

    /// 401 `invalid_token`, including a token whose `cnf.jkt` does not match the proof's key
    /// (RFC 9449 §7.1).
    pub fn invalid_token(&self, description: impl Into<ErrorDescription>) -> OAuthError {
        self.error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            description,
        )
    }

    /// 403 `insufficient_scope`, naming the scope the request needs (RFC 6750 §3.1).
    pub fn insufficient_scope(
        &self,
        required_scope: &str,
        description: impl Into<ErrorDescription>,
    ) -> OAuthError {
        self.error(
            StatusCode::FORBIDDEN,
            ErrorCode::InsufficientScope,
            description,
        )
        .with_required_scope(required_scope)
    }

    /// 401 `invalid_dpop_proof`: the proof is missing, malformed, replayed or does not match the
    /// request (RFC 9449 §7.1).
    pub fn invalid_dpop_proof(&self, description: impl Into<ErrorDescription>) -> OAuthError {
        self.error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidDpopProof,
            description,
        )
    }

    /// 401 `use_dpop_nonce` with the nonce in a `DPoP-Nonce` header (RFC 9449 §9).
    pub fn use_dpop_nonce(
        &self,
        nonce: DpopNonce,
        description: impl Into<ErrorDescription>,
    ) -> OAuthError {
        self.error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::UseDpopNonce,
            description,
        )
        .with_dpop_nonce(nonce)
    }

    fn error(
        &self,
        status: StatusCode,
        code: ErrorCode,
        description: impl Into<ErrorDescription>,
    ) -> OAuthError {
        OAuthError::resource(self.into(), status, Some(code), Some(description.into()))
    }
}

impl From<&BearerChallenge> for Challenge {
    fn from(challenge: &BearerChallenge) -> Self {
        Self::Bearer(challenge.clone())
    }
}

impl From<&DpopChallenge> for Challenge {
    fn from(challenge: &DpopChallenge) -> Self {
        Self::DPoP(challenge.clone())
    }
}

impl Challenge {
    /// The `WWW-Authenticate` value: `<scheme> realm="..", [scope=".."], [error="..",
    /// error_description=".."], [algs=".."]`. Every value is a quoted-string (RFC 9110 §11.2).
    pub(crate) fn render(
        &self,
        code: Option<ErrorCode>,
        description: Option<&ErrorDescription>,
        required_scope: Option<&str>,
    ) -> String {
        let (scheme, realm, algs) = match self {
            Self::Bearer(challenge) => (AuthScheme::Bearer, &challenge.realm, None),
            Self::DPoP(challenge) => (AuthScheme::DPoP, &challenge.realm, Some(&challenge.algs)),
        };
        let mut params: Vec<(&str, &str)> = vec![("realm", realm)];
        if let Some(scope) = required_scope {
            params.push(("scope", scope));
        }
        // RFC 6750 §3.1: without an error code, no other error information either.
        if let Some(code) = code {
            params.push(("error", code.as_str()));
            if let Some(description) = description {
                params.push(("error_description", description.as_str()));
            }
        }
        if let Some(algs) = algs {
            params.push(("algs", algs));
        }

        let mut value = String::from(scheme.as_str());
        for (index, (name, param)) in params.into_iter().enumerate() {
            value.push_str(if index == 0 { " " } else { ", " });
            value.push_str(name);
            value.push('=');
            push_quoted_string(&mut value, param);
        }
        value
    }
}

/// Appends `value` as an RFC 9110 §5.6.4 quoted-string. Callers pass only printable ASCII (every
/// component is checked when it is constructed), so escaping `"` and `\` is all that is left.
fn push_quoted_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn checked_realm(realm: &str) -> Result<String, ChallengeError> {
    let printable = realm.bytes().all(|b| (0x20..=0x7E).contains(&b));
    if realm.is_empty() || realm.len() > MAX_REALM_LEN || !printable {
        return Err(ChallengeError::InvalidRealm);
    }
    Ok(realm.to_owned())
}

/// RFC 6749 §3.3 scope syntax, space-delimited: anything else is dropped from the challenge
/// rather than quoted, because it can only be a bug in the caller.
pub(crate) fn is_scope_list(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .split(' ')
            .all(|token| !token.is_empty() && token.bytes().all(is_nqchar))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_is_escaped_as_a_quoted_string() {
        let challenge = BearerChallenge::new(r#"a "quoted" \ realm"#).unwrap();
        let error = challenge.missing_credentials();
        assert_eq!(
            error.www_authenticate_value().unwrap(),
            r#"Bearer realm="a \"quoted\" \\ realm""#
        );
    }

    #[test]
    fn rejects_invalid_realms() {
        for realm in ["", "a\r\nb", "tab\there", "café"] {
            assert_eq!(
                BearerChallenge::new(realm),
                Err(ChallengeError::InvalidRealm),
                "{realm:?}"
            );
            assert_eq!(
                DpopChallenge::new(realm, &["ES256"]),
                Err(ChallengeError::InvalidRealm),
                "{realm:?}"
            );
        }
        assert_eq!(
            BearerChallenge::new(&"r".repeat(MAX_REALM_LEN + 1)),
            Err(ChallengeError::InvalidRealm)
        );
        assert!(BearerChallenge::new(&"r".repeat(MAX_REALM_LEN)).is_ok());
    }

    #[test]
    fn dpop_challenge_needs_algorithms() {
        assert_eq!(
            DpopChallenge::new("agent-b", &[]),
            Err(ChallengeError::NoAlgorithms)
        );
    }

    #[test]
    fn dpop_challenge_rejects_invalid_algorithm_names() {
        for alg in ["", "ES 256", "ES256\"", "ES256\\", "ES256\n"] {
            assert_eq!(
                DpopChallenge::new("agent-b", &["EdDSA", alg]),
                Err(ChallengeError::InvalidAlgorithm),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn scope_list_syntax() {
        assert!(is_scope_list("agent:invoke"));
        assert!(is_scope_list("openid chatbot:access"));
        for scope in ["", " ", "a  b", "a\"b", "a\\b", "a\nb", " a"] {
            assert!(!is_scope_list(scope), "{scope:?}");
        }
    }
}
