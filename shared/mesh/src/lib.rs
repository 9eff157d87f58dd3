//! What the mTLS workloads of namespace-a (Agent A, Service A2) share.
//!
//! - [`options`]: the identity and internal-IAM options every such workload takes, generated per
//!   program by [`workload_options!`] so each keeps its own environment-variable prefix, and the
//!   redacting [`DatabaseUrl`].
//! - [`iam_keys`]: the internal IAM's JWK Set, fetched over mutual TLS with the workload's own SVID.
//! - [`user_context`]: the transaction token in `x-user-context`, validated.
//! - [`process`]: the runtime, the shutdown signal and the one line a binary prints when it stops.

pub mod iam_keys;
pub mod options;
pub mod process;
pub mod user_context;

pub use iam_keys::{IamKeysError, iam_jwks, warm_up};
pub use options::DatabaseUrl;

/// What [`workload_options!`] expands to refers to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use url::Url;
    pub use workload_identity::{IdentityFiles, SpiffeId, TrustDomain, workloads};
}
