//! The customer, from the transaction token in `x-user-context` (design step 17, second half).
//!
//! The token is the internal IAM's (draft-ietf-oauth-transaction-tokens): `typ: txntoken+jwt`,
//! signed ES256 with a key from the IAM's JWK Set, `iss` the IAM's issuer, `aud` the trust
//! domain name (`demo.test`, as the IAM writes it), unexpired. And it must have been minted for
//! the workload presenting it: `req_wl` (the requesting workload the IAM recorded) equals the
//! SPIFFE ID of this connection's peer. A user context obtained by another workload, and
//! replayed by this one, is refused.
//!
//! Agent A forwards the token unchanged to Service A2, which checks it again.
//!
//! `txn` (the request id the IAM saw) is recorded but not compared with this call's
//! `x-request-id`: the caller chooses that header, so the comparison would prove nothing, and the
//! token's short lifetime is what limits a replay.

use std::time::Duration;

use tokens::claims::TransactionTokenClaims;
use tokens::validate::BuildError;
use tokens::{Algorithm, KeySource, SharedClock, ValidationError, Validator};
use tonic::metadata::MetadataMap;
use wire::jose::TYP_TXN_TOKEN;
use wire::metadata::USER_CONTEXT;
use workload_identity::{PeerIdentity, SpiffeId, TrustDomain};

/// Transaction tokens live about a minute; one valid for longer than this is refused whatever
/// its issuer wrote, bounding the damage of a misconfigured issuer.
pub const MAX_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Why the user context was refused. `Display` never contains the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UserContextError {
    #[error("x-user-context is missing")]
    Missing,
    #[error("x-user-context appears more than once")]
    Repeated,
    #[error("x-user-context is not visible ASCII")]
    NotAscii,
    #[error("the transaction token in x-user-context was refused: {0}")]
    Invalid(#[from] ValidationError),
    #[error("the user context was issued to {requester}, but the caller is {peer}")]
    OtherWorkload {
        /// The verified token, so the refusal can be audited with the customer and its ids.
        customer: Box<VerifiedCustomer>,
        requester: String,
        peer: SpiffeId,
    },
}

impl UserContextError {
    /// The issuer's keys could not be had: the token was never judged, so this is not the
    /// caller's fault.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Invalid(ValidationError::KeysUnavailable(_)))
    }

    /// The customer of a token that verified before a later check refused it.
    pub fn verified_customer(&self) -> Option<&VerifiedCustomer> {
        match self {
            Self::OtherWorkload { customer, .. } => Some(customer),
            _ => None,
        }
    }
}

/// Validates `x-user-context`. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UserContextValidator(Validator);

/// A transaction token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedCustomer(TransactionTokenClaims);

impl UserContextValidator {
    pub fn new(
        issuer: &str,
        trust_domain: &TrustDomain,
        keys: impl Into<KeySource>,
        clock: SharedClock,
    ) -> Result<Self, BuildError> {
        Validator::builder()
            .issuer(issuer)
            .audience(trust_domain.as_str())
            .typ(TYP_TXN_TOKEN)
            // Pinned: the IAM signs ES256, and a validator that also accepted EdDSA would
            // accept tokens from any key of that type the JWKS ever listed.
            .algorithms(&[Algorithm::Es256])
            .require(&["sub", "txn", "iat", "req_wl"])
            .max_lifetime(MAX_LIFETIME)
            .clock(clock)
            .keys(keys)
            .build()
            .map(Self)
    }

    /// Reads `x-user-context` from `metadata`, validates it and checks it was minted for `peer`.
    pub async fn verify(
        &self,
        peer: &PeerIdentity,
        metadata: &MetadataMap,
    ) -> Result<VerifiedCustomer, UserContextError> {
        let token = single_ascii(metadata)?;
        let customer = VerifiedCustomer(
            self.0
                .validate::<TransactionTokenClaims>(token)
                .await?
                .into_claims(),
        );
        // The latest requester is the workload this token was minted for; earlier entries, if
        // any, are the workloads before it in a chain.
        let requester = customer.0.req_wl.latest();
        if requester != peer.spiffe_id().as_str() {
            return Err(UserContextError::OtherWorkload {
                requester: requester.to_owned(),
                peer: peer.spiffe_id().clone(),
                customer: Box::new(customer),
            });
        }
        Ok(customer)
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
        assert!(matches!(
            single_ascii(&metadata),
            Err(UserContextError::Missing)
        ));
        metadata.append(USER_CONTEXT, MetadataValue::from_static("a.b.c"));
        assert_eq!(single_ascii(&metadata).unwrap(), "a.b.c");
        metadata.append(USER_CONTEXT, MetadataValue::from_static("d.e.f"));
        assert!(matches!(
            single_ascii(&metadata),
            Err(UserContextError::Repeated)
        ));
        let mut metadata = MetadataMap::new();
        metadata.insert(
            USER_CONTEXT,
            MetadataValue::try_from("é".as_bytes()).unwrap(),
        );
        assert!(matches!(
            single_ascii(&metadata),
            Err(UserContextError::NotAscii)
        ));
    }
}
