//! The ID token (OpenID Connect Core 1.0 §2) and its binding checks.

use ring::digest::{SHA256, SHA512, digest};
use serde::{Deserialize, Serialize};

use super::Audience;
use super::numeric_date;
use crate::{Algorithm, b64};

/// Claims of an ID token (OpenID Connect Core 1.0 §2), which the web app validates after the
/// code exchange (step 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    /// The customer, unique and never reassigned at the issuer.
    pub sub: String,
    /// The client id of the relying party, possibly among others (§2).
    pub aud: Audience,
    #[serde(deserialize_with = "numeric_date::required")]
    pub exp: i64,
    #[serde(deserialize_with = "numeric_date::required")]
    pub iat: i64,
    #[serde(
        default,
        deserialize_with = "numeric_date::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_time: Option<i64>,
    /// The value the relying party sent in the authentication request (§3.1.2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// The party the token was issued to, when `aud` holds several (§2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Hash of the access token issued with this ID token (§3.1.3.6); see [`at_hash`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The session at the issuer (OpenID Connect Front-Channel Logout 1.0 §3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Why a validated ID token does not belong to this login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token has no `nonce`, but the authentication request sent one")]
    MissingNonce,
    #[error("the ID token's `nonce` is not the one this login sent")]
    NonceMismatch,
    #[error("the ID token has several audiences but no `azp`")]
    MissingAzp,
    #[error("the ID token's `azp` is not this client")]
    AzpMismatch,
    #[error("the ID token's `at_hash` does not match the access token")]
    AtHashMismatch,
}

impl IdTokenClaims {
    /// The checks OpenID Connect Core §3.1.3.7 adds to signature, `iss`, `aud` and `exp` (which
    /// the validator has done): the `nonce` of this login, `azp` when several audiences are
    /// named, and, given the access token that came with it, `at_hash` if present.
    ///
    /// In the code flow `at_hash` is optional (§3.1.3.6): the access token came straight from
    /// the token endpoint over TLS. When present, it is checked anyway, because a mismatch can
    /// only mean the two tokens do not belong together. `alg` is the algorithm the ID token was
    /// signed with ([`crate::Verified::algorithm`]), which picks the hash.
    pub fn check_login(
        &self,
        client_id: &str,
        expected_nonce: &str,
        access_token: Option<&str>,
        alg: Algorithm,
    ) -> Result<(), IdTokenError> {
        // The nonce stopped being secret when it went through the browser; a plain comparison
        // leaks nothing worth a constant-time one.
        match &self.nonce {
            None => return Err(IdTokenError::MissingNonce),
            Some(nonce) if nonce != expected_nonce => return Err(IdTokenError::NonceMismatch),
            Some(_) => {}
        }
        match (&self.azp, self.aud.as_slice().len()) {
            (Some(azp), _) if azp != client_id => return Err(IdTokenError::AzpMismatch),
            (None, n) if n > 1 => return Err(IdTokenError::MissingAzp),
            _ => {}
        }
        if let (Some(token), Some(claimed)) = (access_token, &self.at_hash)
            && at_hash(alg, token) != *claimed
        {
            return Err(IdTokenError::AtHashMismatch);
        }
        Ok(())
    }
}

/// The `at_hash` of an access token (OpenID Connect Core §3.1.3.6): base64url of the left half
/// of the hash of the token's ASCII octets, the hash being the one of the ID token's `alg`.
///
/// For ES256 that is SHA-256. `EdDSA` names no hash; the OpenID Connect working group settled on
/// SHA-512 for Ed25519 (the hash Ed25519 uses internally; connect issue #1125, and the OpenID
/// Connect Token Hash Algorithms guide), which is what is used here.
pub fn at_hash(alg: Algorithm, access_token: &str) -> String {
    let hash = match alg {
        Algorithm::Es256 => digest(&SHA256, access_token.as_bytes()),
        Algorithm::EdDsa => digest(&SHA512, access_token.as_bytes()),
    };
    let bytes = hash.as_ref();
    b64::encode(&bytes[..bytes.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(extra: serde_json::Value) -> IdTokenClaims {
        let mut value = json!({
            "iss": "https://iam.example", "sub": "alice", "aud": "web-app",
            "exp": 2000, "iat": 1000, "nonce": "n-0S6_WzA2Mj"
        });
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn at_hash_matches_the_openid_connect_example() {
        // OpenID Connect Core 1.0 Appendix A.3: an RS256 ID token's `at_hash` for this access
        // token. RS256 and ES256 both hash with SHA-256, so the value is the same.
        assert_eq!(
            at_hash(
                Algorithm::Es256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // Ed25519 uses the left half of SHA-512: 32 bytes, 43 base64url characters.
        assert_eq!(at_hash(Algorithm::EdDsa, "token").len(), 43);
    }

    #[test]
    fn login_checks_each_binding() {
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        let good = claims(json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}));
        assert_eq!(
            good.check_login("web-app", "n-0S6_WzA2Mj", Some(token), Algorithm::Es256),
            Ok(())
        );
        assert_eq!(
            good.check_login("web-app", "other", Some(token), Algorithm::Es256),
            Err(IdTokenError::NonceMismatch)
        );
        assert_eq!(
            good.check_login("web-app", "n-0S6_WzA2Mj", Some("another"), Algorithm::Es256),
            Err(IdTokenError::AtHashMismatch)
        );
        let no_nonce = claims(json!({"nonce": null}));
        assert_eq!(
            no_nonce.check_login("web-app", "n", None, Algorithm::Es256),
            Err(IdTokenError::MissingNonce)
        );
        let many = claims(json!({"aud": ["web-app", "other"]}));
        assert_eq!(
            many.check_login("web-app", "n-0S6_WzA2Mj", None, Algorithm::Es256),
            Err(IdTokenError::MissingAzp)
        );
        let wrong_azp = claims(json!({"azp": "other"}));
        assert_eq!(
            wrong_azp.check_login("web-app", "n-0S6_WzA2Mj", None, Algorithm::Es256),
            Err(IdTokenError::AzpMismatch)
        );
    }
}
