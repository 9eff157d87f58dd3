//! Private signing keys.

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};

use crate::{Algorithm, PublicJwk};

/// Why a signing key could not be made or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the PKCS#8 document is not a valid {0} private key")]
    InvalidPkcs8(Algorithm),
    #[error("the system random number generator failed")]
    Rng,
}

/// A private signing key with its `kid`.
///
/// The private half never leaves this type except as PKCS#8 for storage ([`Self::pkcs8_der`]),
/// and `Debug` prints only the public identity.
pub struct SigningKey {
    pair: Pair,
    kid: String,
    public: PublicJwk,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

enum Pair {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

impl SigningKey {
    /// Generates a fresh key. Its `kid` is its RFC 7638 thumbprint, so a `kid` never names two
    /// different keys, even across rotations and restarts.
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = match alg {
            Algorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
            Algorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng),
        }
        .map_err(|_| KeyError::Rng)?;
        Self::from_pkcs8(alg, pkcs8.as_ref(), None)
    }

    /// Loads a key stored as PKCS#8 DER. Without a `kid`, the thumbprint is used.
    pub fn from_pkcs8(alg: Algorithm, der: &[u8], kid: Option<String>) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let (pair, public) = match alg {
            Algorithm::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
                    .map_err(|_| KeyError::InvalidPkcs8(alg))?;
                let public = PublicJwk::from_p256_point(pair.public_key().as_ref(), None)
                    .ok_or(KeyError::InvalidPkcs8(alg))?;
                (Pair::Es256(pair), public)
            }
            Algorithm::EdDsa => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(|_| KeyError::InvalidPkcs8(alg))?;
                let public = PublicJwk::from_ed25519(pair.public_key().as_ref(), None)
                    .ok_or(KeyError::InvalidPkcs8(alg))?;
                (Pair::EdDsa(pair), public)
            }
        };
        let kid = kid.unwrap_or_else(|| public.thumbprint());
        Ok(Self {
            pair,
            public: public.with_kid(kid.clone()),
            kid,
            pkcs8: der.to_vec(),
            rng,
        })
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.public.algorithm()
    }

    /// The key id published in the JWKS and put in every token header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, with `kid`, ready for a JWKS.
    pub fn public_jwk(&self) -> &PublicJwk {
        &self.public
    }

    /// The private key as PKCS#8 DER, for storage only.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Signs `message`, returning the JWS signature bytes (`r || s` for ES256).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Es256(pair) => pair
                .sign(&self.rng, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| KeyError::Rng),
            Pair::EdDsa(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}
