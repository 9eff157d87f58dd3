//! Second factor: TOTP (RFC 6238) and the base32 codec its secrets are written in.

pub mod base32;
pub mod totp;

pub use totp::{Totp, TotpError};
