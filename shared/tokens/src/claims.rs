//! Typed claims for the four kinds of token in the system, and the claim types they share.
//!
//! The validator checks the registered claims (`iss`, `aud`, `exp`, `nbf`, `iat`, required names)
//! before these structs are read, so they describe shape, not trust: a value of one of these types
//! came out of [`crate::Validator::validate`] only if every check passed. Unknown claims are
//! ignored (issuers add profile claims freely); unknown *confirmation methods* are not, because a
//! binding the resource cannot check must not turn a bound token into a bearer token.

mod access;
mod audience;
mod confirmation;
mod id_token;
pub(crate) mod numeric_date;
mod scopes;
mod service;
mod transaction;

pub use access::AccessTokenClaims;
pub use audience::Audience;
pub use confirmation::Confirmation;
pub use id_token::{IdTokenClaims, IdTokenError, at_hash};
pub use scopes::{ScopeError, Scopes};
pub use service::ServiceTokenClaims;
pub use transaction::{RequestingWorkloads, TransactionTokenClaims};
