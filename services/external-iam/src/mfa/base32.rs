//! Base32 (RFC 4648 §6), the encoding authenticator apps use for TOTP secrets.
//!
//! Encoding writes the canonical form: upper case, no padding (the `otpauth://` URI format
//! omits `=`). Decoding accepts what people paste: either case and optional trailing padding,
//! but nothing else (no spaces, no `0`/`1`/`8`/`9`), and refuses non-canonical trailing bits so
//! one secret has one spelling.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Why a base32 string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Base32Error {
    #[error("character at offset {0} is not in the base32 alphabet")]
    InvalidCharacter(usize),
    #[error("the length is not that of any whole number of bytes")]
    InvalidLength,
    #[error("the unused trailing bits are not zero")]
    NonCanonical,
}

/// Encodes `bytes` as upper-case base32 without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32, either case, with or without `=` padding.
pub fn decode(text: &str) -> Result<Vec<u8>, Base32Error> {
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    if padding > 0 && !text.len().is_multiple_of(8) {
        return Err(Base32Error::InvalidLength);
    }
    // A final group of 8 symbols carries 1–5 bytes in 2, 4, 5, 7 or 8 symbols; 1, 3 and 6
    // leftover symbols cannot come from any byte string.
    if matches!(body.len() % 8, 1 | 3 | 6) {
        return Err(Base32Error::InvalidLength);
    }
    let mut out = Vec::with_capacity(body.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for (offset, byte) in body.bytes().enumerate() {
        let value = match byte.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return Err(Base32Error::InvalidCharacter(offset)),
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    if buffer & ((1 << bits) - 1) != 0 {
        return Err(Base32Error::NonCanonical);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 test vectors (padding removed on encode, accepted on decode).
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "MY======"),
        ("fo", "MZXQ===="),
        ("foo", "MZXW6==="),
        ("foob", "MZXW6YQ="),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI======"),
    ];

    #[test]
    fn rfc_4648_vectors_round_trip() {
        for (plain, encoded) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), encoded.trim_end_matches('='));
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes(), "{encoded}");
            assert_eq!(
                decode(encoded.trim_end_matches('=')).unwrap(),
                plain.as_bytes()
            );
            assert_eq!(
                decode(&encoded.to_ascii_lowercase()).unwrap(),
                plain.as_bytes()
            );
        }
    }

    #[test]
    fn the_rfc_6238_secret_encodes_as_authenticator_apps_expect() {
        assert_eq!(
            encode(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn refuses_foreign_characters_bad_lengths_and_non_canonical_bits() {
        assert_eq!(decode("MZXW6YT1"), Err(Base32Error::InvalidCharacter(7)));
        assert_eq!(decode("MZ XW"), Err(Base32Error::InvalidCharacter(2)));
        assert_eq!(decode("M"), Err(Base32Error::InvalidLength));
        assert_eq!(decode("MZX"), Err(Base32Error::InvalidLength));
        assert_eq!(decode("MY==="), Err(Base32Error::InvalidLength));
        // "MZ" carries 'f' plus two bits that must be zero.
        assert_eq!(decode("MZ"), Err(Base32Error::NonCanonical));
    }
}
