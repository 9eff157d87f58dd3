//! Server-provided DPoP nonces (RFC 9449 §8, §9), stateless.

use std::fmt;

use ring::hmac;
use ring::rand::SystemRandom;

use crate::b64;
use crate::dpop::{DpopConfigError, NonceRejection};

/// Separates these MACs from any other use a shared secret might be put to.
const LABEL: &[u8] = b"tokens/dpop-nonce/v1\0";
/// Bytes of a nonce before encoding: the time bucket, then the full HMAC-SHA256 tag.
const NONCE_BYTES: usize = 8 + 32;
/// Characters of an encoded nonce; anything else is refused before decoding.
const NONCE_CHARS: usize = (NONCE_BYTES * 4).div_ceil(3);

/// Issues and checks `DPoP-Nonce` values without storing them.
///
/// A nonce is `base64url(bucket || HMAC-SHA256(secret, label || bucket))`, where `bucket` is the
/// current time divided by the lifetime. The current and the previous bucket are accepted, so
/// a nonce is good for between one and two lifetimes, and every replica that shares the secret
/// accepts every other replica's nonces. Carrying the bucket in the clear costs nothing (the
/// server's `Date` header says as much) and lets a stale nonce be told from a forged one.
///
/// Nonces here are the same for every client within a bucket. That is all RFC 9449 asks of
/// them (§8: unpredictable; §11.1: clients may reuse them): they bound how far in advance a
/// proof can be made, while the `jti` replay cache keeps each proof single-use.
pub struct NonceSource {
    key: hmac::Key,
    lifetime: i64,
}

impl NonceSource {
    /// A source with a fresh random secret, for a single server.
    pub fn generate(lifetime_seconds: u32) -> Result<Self, DpopConfigError> {
        if lifetime_seconds == 0 {
            return Err(DpopConfigError::ZeroNonceLifetime);
        }
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
            .map_err(|_| DpopConfigError::Rng)?;
        Ok(Self {
            key,
            lifetime: i64::from(lifetime_seconds),
        })
    }

    /// A source with a given secret, so that replicas behind one endpoint accept each other's
    /// nonces. The secret must be at least 32 random bytes and kept like a signing key.
    pub fn from_secret(secret: &[u8; 32], lifetime_seconds: u32) -> Result<Self, DpopConfigError> {
        if lifetime_seconds == 0 {
            return Err(DpopConfigError::ZeroNonceLifetime);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            lifetime: i64::from(lifetime_seconds),
        })
    }

    /// The nonce to hand out at time `now`.
    pub fn issue(&self, now: i64) -> String {
        let bucket = now.div_euclid(self.lifetime);
        let mut raw = [0u8; NONCE_BYTES];
        raw[..8].copy_from_slice(&bucket.to_be_bytes());
        raw[8..].copy_from_slice(self.tag(bucket).as_ref());
        b64::encode(raw)
    }

    /// Accepts a nonce issued in the current or the previous bucket.
    pub fn check(&self, nonce: &str, now: i64) -> Result<(), NonceRejection> {
        if nonce.len() != NONCE_CHARS {
            return Err(NonceRejection::Invalid);
        }
        let raw = b64::decode(nonce).map_err(|_| NonceRejection::Invalid)?;
        let (bucket_bytes, tag) = raw.split_at(8);
        let bucket_bytes: [u8; 8] = bucket_bytes
            .try_into()
            .map_err(|_| NonceRejection::Invalid)?;
        let bucket = i64::from_be_bytes(bucket_bytes);
        // The MAC is checked first and in constant time: only a genuine nonce learns whether
        // it is merely stale.
        hmac::verify(&self.key, &message(bucket), tag).map_err(|_| NonceRejection::Invalid)?;
        let current = now.div_euclid(self.lifetime);
        if bucket == current || bucket == current.saturating_sub(1) {
            Ok(())
        } else {
            Err(NonceRejection::Stale)
        }
    }

    fn tag(&self, bucket: i64) -> hmac::Tag {
        hmac::sign(&self.key, &message(bucket))
    }
}

fn message(bucket: i64) -> [u8; LABEL.len() + 8] {
    let mut message = [0u8; LABEL.len() + 8];
    message[..LABEL.len()].copy_from_slice(LABEL);
    message[LABEL.len()..].copy_from_slice(&bucket.to_be_bytes());
    message
}

impl fmt::Debug for NonceSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceSource")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_and_previous_buckets_are_accepted() {
        let source = NonceSource::generate(60).unwrap();
        // 1_000_020 is the first second of a 60 s bucket: the nonce is good through the end
        // of the next bucket.
        let nonce = source.issue(1_000_020);
        assert_eq!(nonce.len(), NONCE_CHARS);
        assert_eq!(source.check(&nonce, 1_000_020), Ok(()));
        assert_eq!(source.check(&nonce, 1_000_139), Ok(()));
        assert_eq!(source.check(&nonce, 1_000_140), Err(NonceRejection::Stale));
        // A nonce from the future (a replica's clock ahead) is not current either.
        assert_eq!(source.check(&nonce, 1_000_019), Err(NonceRejection::Stale));
    }

    #[test]
    fn forged_and_foreign_nonces_are_invalid() {
        let source = NonceSource::generate(60).unwrap();
        let other = NonceSource::generate(60).unwrap();
        let nonce = other.issue(1_000_000);
        assert_eq!(
            source.check(&nonce, 1_000_000),
            Err(NonceRejection::Invalid)
        );
        assert_eq!(
            source.check("short", 1_000_000),
            Err(NonceRejection::Invalid)
        );
        let mut tampered = source.issue(1_000_000).into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            source.check(&tampered, 1_000_000),
            Err(NonceRejection::Invalid)
        );
    }

    #[test]
    fn replicas_sharing_a_secret_agree() {
        let secret = [7u8; 32];
        let a = NonceSource::from_secret(&secret, 30).unwrap();
        let b = NonceSource::from_secret(&secret, 30).unwrap();
        assert_eq!(b.check(&a.issue(500), 500), Ok(()));
        assert_eq!(
            NonceSource::from_secret(&secret, 0).unwrap_err(),
            DpopConfigError::ZeroNonceLifetime
        );
    }
}
