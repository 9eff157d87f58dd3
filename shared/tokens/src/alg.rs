//! The signature algorithms this system accepts.

use std::fmt;

/// A JWS signature algorithm (RFC 7518 §3.4, RFC 8037 §3.1).
///
/// Only asymmetric algorithms exist here. `none` and the HMAC family are not representable, so
/// the classic downgrades (`alg: none`, HS256 keyed with a public key) cannot reach a verifier:
/// they fail when the header is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256; the signature is `r || s`, 64 bytes. The default.
    Es256,
    /// Ed25519 (RFC 8037).
    EdDsa,
}

impl Algorithm {
    /// The `alg` header value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Parses an `alg` value; names are case-sensitive (RFC 7515 §4.1.1).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    pub(crate) fn verification(self) -> &'static dyn ring::signature::VerificationAlgorithm {
        match self {
            Self::Es256 => &ring::signature::ECDSA_P256_SHA256_FIXED,
            Self::EdDsa => &ring::signature::ED25519,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
