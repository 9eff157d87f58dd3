//! The customer, from the transaction token in `x-user-context` (design step 17, second half).
//!
//! The token is the internal IAM's (draft-ietf-oauth-transaction-tokens): `typ: txntoken+jwt`,
//! signed ES256 with a key from the IAM's JWK Set, `iss` the IAM's issuer, `aud` the trust
//! domain name (`demo.test`, as the IAM writes it), unexpired ([`mesh::user_context`]). And it
//! must have been minted for the workload presenting it: `req_wl` (the requesting workload the
//! IAM recorded) equals the SPIFFE ID of this connection's peer. A user context obtained by
//! another workload, and replayed by this one, is refused.
//!
//! Agent A forwards the token unchanged to Service A2, which checks it again.
//!
//! `txn` (the request id the IAM saw) is recorded but not compared with this call's
//! `x-request-id`: the caller chooses that header, so the comparison would prove nothing, and the
//! token's short lifetime is what limits a replay.

use tokens::validate::BuildError;
use tokens::{KeySource, SharedClock};
use tonic::metadata::MetadataMap;
use workload_identity::{PeerIdentity, SpiffeId, TrustDomain};

pub use mesh::user_context::{MAX_LIFETIME, VerifiedCustomer};

/// Why the user context was refused. `Display` never contains the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UserContextError {
    /// Missing, repeated, not ASCII, or not a valid transaction token.
    #[error(transparent)]
    Token(#[from] mesh::user_context::UserContextError),
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
        matches!(self, Self::Token(error) if error.is_unavailable())
    }

    /// The customer of a token that verified before a later check refused it.
    pub fn verified_customer(&self) -> Option<&VerifiedCustomer> {
        match self {
            Self::OtherWorkload { customer, .. } => Some(customer),
            Self::Token(_) => None,
        }
    }
}

/// Validates `x-user-context` and that it was minted for the peer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UserContextValidator(mesh::user_context::UserContextValidator);

impl UserContextValidator {
    pub fn new(
        issuer: &str,
        trust_domain: &TrustDomain,
        keys: impl Into<KeySource>,
        clock: SharedClock,
    ) -> Result<Self, BuildError> {
        mesh::user_context::UserContextValidator::requiring_req_wl(
            issuer,
            trust_domain,
            keys,
            clock,
        )
        .map(Self)
    }

    /// Reads `x-user-context` from `metadata`, validates it and checks it was minted for `peer`.
    pub async fn verify(
        &self,
        peer: &PeerIdentity,
        metadata: &MetadataMap,
    ) -> Result<VerifiedCustomer, UserContextError> {
        let customer = self.0.verify(metadata).await?;
        // The latest requester is the workload this token was minted for; earlier entries, if
        // any, are the workloads before it in a chain.
        let requester = customer.claims().req_wl.latest();
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
