//! DPoP: sender-constrained tokens by proof of possession (RFC 9449).
//!
//! A DPoP-bound token names a client key by its thumbprint (`cnf.jkt`); each request carries,
//! beside the token, a fresh JWT signed by that key over the request's method and URI (and,
//! at a resource, the token's hash). A stolen token alone is then useless.
//!
//! - The client side is [`DpopKey`]: it holds the key and makes one proof per request.
//! - The server side is [`DpopVerifier`]: configured once (algorithms, `iat` window, clock,
//!   replay cache, optional nonces), it runs every check of RFC 9449 §4.3 and returns a
//!   [`VerifiedProof`] or a [`DpopError`] naming the check that failed.
//! - [`proof_header`], [`credentials`], [`bound_jkt`] and [`check_presentation`] read the
//!   request headers and refuse the Bearer downgrade (§7.1, §7.2).
//!
//! A resource server's flow, in order:
//!
//! ```text
//! let creds   = credentials(headers)?.ok_or(no credentials)?;
//! let proof   = proof_header(headers)?;
//! let claims  = <validate the access token: signature, iss, aud, exp, ...>;
//! match check_presentation(creds.scheme, bound_jkt(&claims)?, proof.is_some())? {
//!     Presentation::Dpop { jkt } => verifier.verify(proof, &method, &route_htu, Some(creds.token), Some(jkt))?,
//!     Presentation::Bearer => <refuse: this resource requires DPoP>,
//! }
//! ```

mod error;
mod htu;
mod nonce;
mod proof;
mod replay;
mod scheme;
mod verify;

use ring::digest::{SHA256, digest};

pub use error::{
    DpopConfigError, DpopError, INVALID_DPOP_PROOF, INVALID_REQUEST, INVALID_TOKEN, NonceRejection,
    ProofError, USE_DPOP_NONCE,
};
pub use htu::{Htu, HtuError};
pub use nonce::NonceSource;
pub use proof::DpopKey;
pub use replay::ReplayCache;
pub use scheme::{
    AuthScheme, Credentials, Presentation, bound_jkt, check_presentation, credentials, proof_header,
};
pub use verify::{DpopConfig, DpopVerifier, VerifiedProof};

/// The request header that carries the proof.
pub const DPOP_HEADER: &str = "dpop";
/// The response header that carries a server nonce (RFC 9449 §8).
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";
/// The `typ` of every proof (RFC 9449 §4.2).
pub const DPOP_JWT_TYPE: &str = "dpop+jwt";

/// The `ath` of an access token: base64url of the SHA-256 of its ASCII value (RFC 9449 §4.2).
pub fn access_token_hash(access_token: &str) -> String {
    crate::b64::encode(digest(&SHA256, access_token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ath_matches_the_rfc_9449_example() {
        // RFC 9449 §7.1, Figures 13 and 14.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
