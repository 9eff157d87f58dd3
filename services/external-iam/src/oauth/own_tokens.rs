//! Verifying tokens this provider signed, for its own endpoints (UserInfo, introspection,
//! revocation, logout's `id_token_hint`). The keys are the live key set, so no HTTP round trip
//! and no cache: a rotation is visible at once.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokens::jws::Compact;
use tokens::{Algorithm, PublicJwk};

use crate::state::Shared;

/// Why a token is not one of ours, or no longer valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnTokenError {
    #[error("the token is malformed or its signature is invalid")]
    Invalid,
    #[error("the token was not issued by this server")]
    ForeignIssuer,
    #[error("the token has the wrong type")]
    WrongType,
    #[error("the token has expired")]
    Expired,
}

/// Checks signature (by `kid` in the live set), `typ`, `iss`, and `exp` unless `allow_expired`,
/// then reads the claims as `C`.
pub fn verify<C: DeserializeOwned>(
    state: &Shared,
    token: &str,
    typ: &str,
    allow_expired: bool,
) -> Result<C, OwnTokenError> {
    let compact = Compact::parse(token, &[Algorithm::Es256, Algorithm::EdDsa])
        .map_err(|_| OwnTokenError::Invalid)?;
    if !compact
        .header_str("typ")
        .is_some_and(|t| t.eq_ignore_ascii_case(typ))
    {
        return Err(OwnTokenError::WrongType);
    }
    let kid = compact
        .header_str("kid")
        .ok_or(OwnTokenError::Invalid)?
        .to_owned();
    let jwks = state.keys.current().jwks();
    let key: &PublicJwk = jwks.find(&kid).ok_or(OwnTokenError::Invalid)?;
    let claims = compact.verify(key).map_err(|_| OwnTokenError::Invalid)?;
    if claims.get("iss").and_then(Value::as_str) != Some(state.config.issuer.as_str()) {
        return Err(OwnTokenError::ForeignIssuer);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(OwnTokenError::Invalid)?;
    if !allow_expired && state.now() >= exp {
        return Err(OwnTokenError::Expired);
    }
    serde_json::from_value(Value::Object(claims)).map_err(|_| OwnTokenError::Invalid)
}
