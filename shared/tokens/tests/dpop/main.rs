//! DPoP (RFC 9449) end to end: RFC example proofs, every §4.3 check with its exact error,
//! nonces, the replay cache and the Bearer downgrade.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attacks;
mod checks;
mod client;
mod helpers;
mod nonce;
mod replay;
mod rfc_vectors;
mod scheme;
