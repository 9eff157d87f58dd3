//! Authenticating customers: passwords, throttling, and the opaque values sessions and codes
//! are made of.

pub mod opaque;
pub mod password;
pub mod throttle;
