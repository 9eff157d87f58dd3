//! Shared test fixtures.

pub mod errors;
pub mod pki;
pub mod raw_tls;
pub mod web;
