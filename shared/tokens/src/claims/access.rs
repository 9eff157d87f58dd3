//! The customer's access token: a JWT access token profile token (RFC 9068), DPoP-bound.

use serde::{Deserialize, Serialize};

use super::numeric_date;
use super::{Audience, Confirmation, Scopes};

/// Claims of a customer access token (RFC 9068 §2.2), issued by the external IAM with
/// `typ: at+jwt` and validated by Agent B and, for token exchange, by the internal IAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The issuer (RFC 9068 §2.2, RFC 7519 §4.1.1).
    pub iss: String,
    /// The customer (RFC 9068 §2.2).
    pub sub: String,
    /// The resource the token is for: Agent B's API here (RFC 9068 §2.2, RFC 8707).
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
    pub nbf: Option<i64>,
    /// The token's id: how the token appears in logs and audit events.
    pub jti: String,
    /// The client the token was issued to (RFC 9068 §2.2).
    pub client_id: String,
    /// RFC 9068 §2.2.3 makes `scope` conditional on a scope having been requested; in this
    /// system every authorization request carries scopes, so the claim is required.
    pub scope: Scopes,
    /// When the customer authenticated (RFC 9068 §2.2.1, OIDC Core §2).
    #[serde(
        default,
        deserialize_with = "numeric_date::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_time: Option<i64>,
    /// Authentication context class (RFC 9068 §2.2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Authentication methods, e.g. `["pwd", "otp"]` (RFC 9068 §2.2.1, RFC 8176).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// The key binding: `jkt` for a DPoP-bound token (RFC 9449 §6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

impl AccessTokenClaims {
    /// The DPoP key thumbprint the token is bound to, if it is DPoP-bound.
    ///
    /// A resource that accepts DPoP must refuse a bound token presented without a proof
    /// (RFC 9449 §7.1), and one that receives a token bound some other way must not ignore
    /// the binding; `None` here means "bearer", which this system never issues to customers.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.cnf.as_ref().and_then(Confirmation::jkt)
    }
}
