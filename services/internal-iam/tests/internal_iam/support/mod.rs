//! Shared fixtures.

pub mod iam;
pub mod issuer;
pub mod pki;
pub mod tls;

pub use iam::TestIam;
