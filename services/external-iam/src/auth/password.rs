//! Password hashing: argon2id with the OWASP Password Storage Cheat Sheet's first
//! configuration (m = 19 MiB, t = 2, p = 1), run on the blocking pool so a login never stalls
//! the async workers that serve every other request.

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Memory cost in KiB (OWASP: 19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations (OWASP: 2).
pub const ITERATIONS: u32 = 2;
/// Lanes (OWASP: 1).
pub const PARALLELISM: u32 = 1;
/// Passwords longer than this are refused before hashing: argon2 accepts anything, but a
/// megabyte-long "password" is a denial-of-service attempt, not a credential.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// At most this many argon2 computations run at once: 8 × 19 MiB ≈ 152 MiB at the peak, and
/// on a small machine more parallel runs would only queue for the same cores anyway.
pub const MAX_CONCURRENT_HASHES: usize = 8;
/// NIST SP 800-63B §5.1.1.2 minimum for chosen secrets.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A password as typed. `Debug` redacts it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Why a password could not be hashed or set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("hashing failed: {0}")]
    Hashing(String),
    #[error("the hashing task did not complete")]
    Join,
}

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasherPool {
    argon2: Arc<Argon2<'static>>,
    /// A hash of a random password, verified against when the username is unknown, so that an
    /// unknown user costs the same argon2 run as a wrong password (no user enumeration by
    /// timing).
    dummy: Arc<str>,
    /// Each argon2 run holds `MEMORY_KIB` of memory on a blocking thread. Without a bound, a
    /// flood of login attempts spread over many names and addresses (so the throttle never
    /// trips) would run them all at once and exhaust memory; with it, extra attempts queue.
    permits: Arc<Semaphore>,
}

impl fmt::Debug for PasswordHasherPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasherPool").finish_non_exhaustive()
    }
}

impl PasswordHasherPool {
    pub fn new() -> Result<Self, PasswordError> {
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut random = [0u8; 32];
        SystemRandom::new()
            .fill(&mut random)
            .map_err(|_| PasswordError::Hashing("no randomness".into()))?;
        let dummy = hash_with(&argon2, &tokens::b64::encode(random))?;
        Ok(Self {
            argon2: Arc::new(argon2),
            dummy: dummy.into(),
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_HASHES)),
        })
    }

    /// Hashes a new password (for the admin commands), enforcing the length rules.
    pub async fn hash(&self, password: Password) -> Result<String, PasswordError> {
        if password.0.chars().count() < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        let argon2 = self.argon2.clone();
        let _permit = self.permit().await?;
        tokio::task::spawn_blocking(move || hash_with(&argon2, &password.0))
            .await
            .map_err(|_| PasswordError::Join)?
    }

    /// Verifies `password` against `stored` (a PHC string), or against the dummy hash when
    /// `stored` is `None` (unknown user). Always runs one argon2 verification; always `false` for
    /// an unknown user.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> bool {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy.to_string());
        let argon2 = self.argon2.clone();
        let oversized = password.len() > MAX_PASSWORD_BYTES;
        let Ok(_permit) = self.permit().await else {
            return false;
        };
        let matched = tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return false;
            };
            // An oversized password is checked as an empty one: same cost, certain failure.
            let bytes: &[u8] = if oversized { b"" } else { password.as_bytes() };
            argon2.verify_password(bytes, &parsed).is_ok()
        })
        .await
        .unwrap_or(false);
        matched && known && !oversized
    }
}

impl PasswordHasherPool {
    /// A slot to run one argon2 computation; held until the computation ends.
    async fn permit(&self) -> Result<SemaphorePermit<'_>, PasswordError> {
        self.permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Join)
    }

    /// How many argon2 computations may run at once (for tests).
    pub fn available_slots(&self) -> usize {
        self.permits.available_permits()
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| PasswordError::Hashing("no randomness".into()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_owasp_argon2id_and_verifies() {
        let pool = PasswordHasherPool::new().unwrap();
        let hash = pool.hash(Password::new("correct horse")).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            pool.verify(Password::new("correct horse"), Some(hash.clone()))
                .await
        );
        assert!(!pool.verify(Password::new("wrong horse"), Some(hash)).await);
        assert!(!pool.verify(Password::new("correct horse"), None).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_verifications_never_runs_more_than_the_cap_at_once() {
        let pool = PasswordHasherPool::new().unwrap();
        let hash = pool.hash(Password::new("correct horse")).await.unwrap();
        let attempts: Vec<_> = (0..MAX_CONCURRENT_HASHES * 2)
            .map(|_| {
                let pool = pool.clone();
                let hash = hash.clone();
                tokio::spawn(async move { pool.verify(Password::new("guess"), Some(hash)).await })
            })
            .collect();
        // Let every attempt reach the semaphore, then look: the cap is in use, never exceeded
        // (the count cannot go below zero), and the rest wait their turn.
        tokio::task::yield_now().await;
        assert!(pool.available_slots() <= MAX_CONCURRENT_HASHES);
        for attempt in attempts {
            assert!(!attempt.await.unwrap());
        }
        assert_eq!(pool.available_slots(), MAX_CONCURRENT_HASHES);
    }

    #[tokio::test]
    async fn length_rules_are_enforced() {
        let pool = PasswordHasherPool::new().unwrap();
        assert_eq!(
            pool.hash(Password::new("short")).await,
            Err(PasswordError::TooShort)
        );
        assert_eq!(
            pool.hash(Password::new("x".repeat(MAX_PASSWORD_BYTES + 1)))
                .await,
            Err(PasswordError::TooLong)
        );
        assert!(!format!("{:?}", Password::new("secret")).contains("secret"));
    }
}
