//! Opaque one-time values: authorization codes, refresh tokens, session ids, CSRF tokens.
//!
//! Each is 256 random bits, base64url-encoded (43 characters). Only the SHA-256 of a code,
//! refresh token or session id is stored, so a copy of the database holds nothing that can be
//! presented: the preimage of a 256-bit random value cannot be searched for. A plain hash (no
//! salt, no stretching) is enough precisely because the values are random and long; passwords,
//! which are neither, go through argon2id instead.

use std::fmt;

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};

/// Bytes of randomness in every opaque value.
pub const RANDOM_BYTES: usize = 32;
/// Length of the base64url form.
pub const ENCODED_LEN: usize = 43;

/// The system random generator failed: nothing secure can be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RngFailure;

/// A freshly generated or presented opaque value. `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct Opaque(String);

impl Opaque {
    /// 256 fresh random bits.
    pub fn generate(rng: &SystemRandom) -> Result<Self, RngFailure> {
        let mut bytes = [0u8; RANDOM_BYTES];
        rng.fill(&mut bytes).map_err(|_| RngFailure)?;
        Ok(Self(tokens::b64::encode(bytes)))
    }

    /// A value presented by a client or browser: `None` unless it has the shape of one this
    /// server issued, so garbage never reaches a database query.
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
        hash(&self.0)
    }
}

/// base64url of SHA-256 of `text`.
pub fn hash(text: &str) -> String {
    tokens::b64::encode(digest(&SHA256, text.as_bytes()))
}

impl fmt::Debug for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Opaque(<redacted>)")
    }
}

/// A random identifier that is not a secret (a user id, a `sid`, a token family id, a `jti`):
/// 128 bits are enough for uniqueness.
pub fn random_id(rng: &SystemRandom) -> Result<String, RngFailure> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes).map_err(|_| RngFailure)?;
    Ok(tokens::b64::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_random_shaped_and_redacted() {
        let rng = SystemRandom::new();
        let a = Opaque::generate(&rng).unwrap();
        let b = Opaque::generate(&rng).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), ENCODED_LEN);
        assert_eq!(Opaque::presented(a.expose()), Some(a.clone()));
        assert_eq!(format!("{a:?}"), "Opaque(<redacted>)");
        assert_ne!(a.hashed(), a.expose());
        assert_eq!(a.hashed().len(), 43);
    }

    #[test]
    fn presented_values_of_the_wrong_shape_are_refused() {
        assert_eq!(Opaque::presented(""), None);
        assert_eq!(Opaque::presented(&"a".repeat(44)), None);
        assert_eq!(Opaque::presented(&"+".repeat(43)), None);
    }
}
