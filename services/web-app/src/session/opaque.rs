//! Opaque random values: session ids, pre-login ids and CSRF tokens.
//!
//! Each is 256 random bits, base64url-encoded (43 characters). Session and pre-login ids are
//! stored only as their SHA-256, so a copy of the database holds no cookie that could be
//! presented; a plain hash is enough because the values are long and random (nothing to guess).

use std::fmt;

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom as _, SystemRandom};

/// Bytes of randomness in every opaque value.
const RANDOM_BYTES: usize = 32;
/// Length of the base64url form.
const ENCODED_LEN: usize = 43;

/// The system random generator failed: nothing secure can be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RngFailure;

/// A generated or presented opaque value. `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct Opaque(String);

impl Opaque {
    /// 256 fresh random bits.
    pub fn generate(rng: &SystemRandom) -> Result<Self, RngFailure> {
        let mut bytes = [0u8; RANDOM_BYTES];
        rng.fill(&mut bytes).map_err(|_| RngFailure)?;
        Ok(Self(tokens::b64::encode(bytes)))
    }

    /// A value presented by a browser: `None` unless it has the shape of one this app issued,
    /// so garbage never reaches a database query.
    pub fn presented(text: &str) -> Option<Self> {
        (text.len() == ENCODED_LEN && tokens::b64::decode(text).is_ok_and(|b| b.len() == 32))
            .then(|| Self(text.to_owned()))
    }

    /// The value to hand out. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks up by.
    pub fn hashed(&self) -> String {
        tokens::b64::encode(digest(&SHA256, self.0.as_bytes()))
    }
}

impl fmt::Debug for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Opaque(<redacted>)")
    }
}

/// Compares two secrets in time that depends only on their lengths (CSRF tokens: the browser
/// could otherwise learn a token byte by byte from response times).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_random_well_shaped_and_redacted() {
        let rng = SystemRandom::new();
        let a = Opaque::generate(&rng).unwrap();
        let b = Opaque::generate(&rng).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), ENCODED_LEN);
        assert_eq!(Opaque::presented(a.expose()), Some(a.clone()));
        assert_eq!(format!("{a:?}"), "Opaque(<redacted>)");
        assert_ne!(a.hashed(), a.expose());
    }

    #[test]
    fn presented_values_must_have_the_issued_shape() {
        for bad in [
            "",
            "short",
            &"A".repeat(44),
            &format!("{}=", "A".repeat(42)),
            &"*".repeat(43),
        ] {
            assert_eq!(Opaque::presented(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
