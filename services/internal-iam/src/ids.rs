//! Random identifiers: token ids (`jti`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom as _, SystemRandom};

/// Why an identifier could not be made: the operating system refused randomness.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the system random number generator failed")]
pub(crate) struct NoRandomness;

/// A `jti`: 128 random bits, base64url, so ids never repeat across instances or restarts.
pub(crate) fn new_jti(rng: &SystemRandom) -> Result<String, NoRandomness> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes).map_err(|_| NoRandomness)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jtis_are_22_characters_and_distinct() {
        let rng = SystemRandom::new();
        let a = new_jti(&rng).unwrap();
        let b = new_jti(&rng).unwrap();
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
    }
}
