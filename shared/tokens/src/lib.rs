//! JWS signing and strict validation, JWKS publishing and caching, thumbprints and DPoP (RFC 9449).
//!
//! Every token in the system passes through this crate: the customer's access and ID tokens from the
//! external IAM, the service and transaction tokens from the internal IAM, and DPoP proofs. The
//! validator is strict by construction: callers state what they expect (issuer, audience, `typ`,
//! algorithms, required claims, leeway, clock) and anything else is rejected with a specific error.

mod alg;
pub mod b64;
pub mod claims;
pub mod clock;
pub mod dpop;
pub mod jwk;
pub mod jwks;
pub mod jws;
mod keys;
pub mod thumbprint;
pub mod validate;

pub use alg::Algorithm;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use dpop::{DpopError, DpopKey, DpopVerifier, Htu, VerifiedProof};
pub use jwk::{Jwks, PublicJwk};
pub use jwks::{HttpFetcher, JwksCache, KeySet, KeySource};
pub use keys::{KeyError, SigningKey};
pub use validate::{ValidationError, Validator, Verified};
