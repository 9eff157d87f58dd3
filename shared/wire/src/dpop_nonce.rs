//! Server-provided DPoP nonces (RFC 9449 §8).

use std::fmt;

/// A nonce for the `DPoP-Nonce` header. Validated on construction, so writing it into a response
/// header cannot inject anything.
#[derive(Clone, PartialEq, Eq)]
pub struct DpopNonce(String);

/// Why a value is not a DPoP nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDpopNonce {
    /// RFC 9449 §8.1: `nonce = 1*NQCHAR`.
    #[error("DPoP nonce is empty")]
    Empty,
    /// Longer than [`DpopNonce::MAX_LEN`]; a server never needs more, so a longer value is a bug.
    #[error("DPoP nonce is longer than {} characters", DpopNonce::MAX_LEN)]
    TooLong,
    /// A character outside `NQCHAR = %x21 / %x23-5B / %x5D-7E` (RFC 9449 §8.1).
    #[error("DPoP nonce contains a character outside NQCHAR")]
    InvalidCharacter,
}

impl DpopNonce {
    /// Upper bound on the length, in bytes.
    pub const MAX_LEN: usize = 256;

    /// Checks `value` against RFC 9449 §8.1.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidDpopNonce> {
        let value = value.into();
        if value.is_empty() {
            return Err(InvalidDpopNonce::Empty);
        }
        if value.len() > Self::MAX_LEN {
            return Err(InvalidDpopNonce::TooLong);
        }
        if !value.bytes().all(is_nqchar) {
            return Err(InvalidDpopNonce::InvalidCharacter);
        }
        Ok(Self(value))
    }

    /// The nonce.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DpopNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DpopNonce").field(&self.0).finish()
    }
}

/// `NQCHAR = %x21 / %x23-5B / %x5D-7E` (RFC 9449 §8.1): visible ASCII without `"` and `\`.
pub(crate) const fn is_nqchar(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_rfc_example() {
        let nonce = DpopNonce::new("eyJ7S_zG.eyJH0-Z.HX4w-7v").unwrap();
        assert_eq!(nonce.as_str(), "eyJ7S_zG.eyJH0-Z.HX4w-7v");
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(DpopNonce::new(""), Err(InvalidDpopNonce::Empty));
    }

    #[test]
    fn rejects_too_long() {
        assert_eq!(
            DpopNonce::new("a".repeat(257)),
            Err(InvalidDpopNonce::TooLong)
        );
        assert!(DpopNonce::new("a".repeat(256)).is_ok());
    }

    #[test]
    fn rejects_characters_outside_nqchar() {
        for value in ["a b", "a\"b", "a\\b", "a\r\nSet-Cookie: x=y", "ä", "a\tb"] {
            assert_eq!(
                DpopNonce::new(value),
                Err(InvalidDpopNonce::InvalidCharacter),
                "{value:?}"
            );
        }
    }
}
