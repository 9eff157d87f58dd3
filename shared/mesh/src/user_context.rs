//! The customer, from the transaction token in `x-user-context`.
//!
//! The token is the internal IAM's (draft-ietf-oauth-transaction-tokens): `typ: txntoken+jwt`,
//! signed ES256 with a key from the IAM's JWK Set, `iss` the IAM's issuer, `aud` the trust
//! domain name (`demo.test`, as the IAM writes it), unexpired. Its `sub` is the customer.
//!
//! What else a workload checks (Agent A: `req_wl` against its peer) is that workload's own
//! decision, made on the [`VerifiedCustomer`] this returns.
//!
//! `txn` (the request id the IAM saw) is not compared with this call's `x-request-id`: the
//! caller chooses that header, so the comparison would prove nothing, and the token's short
//! lifetime is what limits a replay.

use std::time::Duration;

use tokens::claims::TransactionTokenClaims;
use tokens::validate::BuildError;
use tokens::{Algorithm, KeySource, SharedClock, ValidationError, Validator};
use tonic::metadata::MetadataMap;
use wire::jose::TYP_TXN_TOKEN;
use wire::metadata::USER_CONTEXT;
use workload_identity::TrustDomain;

/// Transaction tokens live about a minute; one valid for longer than this is refused whatever
/// its issuer wrote, bounding the damage of a misconfigured issuer.
pub const MAX_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The claims every transaction token must carry here.
const REQUIRED: [&str; 3] = ["sub", "txn", "iat"];

/// Why the user context was refused. `Display` never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserContextError {
    #[error("x-user-context is missing")]
    Missing,
    #[error("x-user-context appears more than once")]
    Repeated,
    #[error("x-user-context is not visible ASCII")]
    NotAscii,
    #[error("the transaction token in x-user-context was refused: {0}")]
    Invalid(#[from] ValidationError),
}

impl UserContextError {
    /// The issuer's keys could not be had: the token was never judged, so this is not the
    /// caller's fault.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Invalid(ValidationError::KeysUnavailable(_)))
    }
}

/// Validates `x-user-context`. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UserContextValidator(Validator);

/// A transaction token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedCustomer(TransactionTokenClaims);

impl UserContextValidator {
    /// Requires `sub`, `txn` and `iat`.
    pub fn new(
        issuer: &str,
        trust_domain: &TrustDomain,
        keys: impl Into<KeySource>,
        clock: SharedClock,
    ) -> Result<Self, BuildError> {
        Self::requiring(issuer, trust_domain, keys, clock, &[])
    }

    /// Requires `req_wl` as well, for a workload that compares it with its peer: a token
    /// without it is refused rather than read as naming no one.
    pub fn requiring_req_wl(
        issuer: &str,
        trust_domain: &TrustDomain,
        keys: impl Into<KeySource>,
        clock: SharedClock,
    ) -> Result<Self, BuildError> {
        Self::requiring(issuer, trust_domain, keys, clock, &["req_wl"])
    }

    fn requiring(
        issuer: &str,
        trust_domain: &TrustDomain,
        keys: impl Into<KeySource>,
        clock: SharedClock,
        also: &[&str],
    ) -> Result<Self, BuildError> {
        let required: Vec<&str> = REQUIRED.iter().chain(also).copied().collect();
        Validator::builder()
            .issuer(issuer)
            .audience(trust_domain.as_str())
            .typ(TYP_TXN_TOKEN)
            // Pinned: the IAM signs ES256, and a validator that also accepted EdDSA would
            // accept tokens from any key of that type the JWKS ever listed.
            .algorithms(&[Algorithm::Es256])
            .require(&required)
            .max_lifetime(MAX_LIFETIME)
            .clock(clock)
            .keys(keys)
            .build()
            .map(Self)
    }

    /// Reads `x-user-context` from `metadata` and validates it.
    pub async fn verify(
        &self,
        metadata: &MetadataMap,
    ) -> Result<VerifiedCustomer, UserContextError> {
        let token = single_ascii(metadata)?;
        let verified = self.0.validate::<TransactionTokenClaims>(token).await?;
        Ok(VerifiedCustomer(verified.into_claims()))
    }
}

impl VerifiedCustomer {
    /// The customer's `sub`.
    pub fn subject(&self) -> &str {
        &self.0.sub
    }

    /// The transaction id.
    pub fn txn(&self) -> &str {
        &self.0.txn
    }

    /// The token's `jti`, when the issuer set one: how the token appears in logs.
    pub fn jti(&self) -> Option<&str> {
        self.0.jti.as_deref()
    }

    pub fn claims(&self) -> &TransactionTokenClaims {
        &self.0
    }
}

/// The one value of `x-user-context`; a repeated key is refused rather than one value chosen.
fn single_ascii(metadata: &MetadataMap) -> Result<&str, UserContextError> {
    let mut values = metadata.get_all(USER_CONTEXT).iter();
    let value = values.next().ok_or(UserContextError::Missing)?;
    if values.next().is_some() {
        return Err(UserContextError::Repeated);
    }
    value.to_str().map_err(|_| UserContextError::NotAscii)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::MetadataValue;

    #[test]
    fn the_header_must_be_present_once_and_ascii() {
        let mut metadata = MetadataMap::new();
        assert_eq!(single_ascii(&metadata), Err(UserContextError::Missing));
        metadata.append(USER_CONTEXT, MetadataValue::from_static("a.b.c"));
        assert_eq!(single_ascii(&metadata), Ok("a.b.c"));
        metadata.append(USER_CONTEXT, MetadataValue::from_static("d.e.f"));
        assert_eq!(single_ascii(&metadata), Err(UserContextError::Repeated));
        let mut metadata = MetadataMap::new();
        metadata.insert(
            USER_CONTEXT,
            MetadataValue::try_from("é".as_bytes()).unwrap(),
        );
        assert_eq!(single_ascii(&metadata), Err(UserContextError::NotAscii));
    }
}
