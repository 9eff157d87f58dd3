//! Signing keys kept in the database, so every instance of a program and its admin commands
//! share them, and rotation survives restarts.
//!
//! **The life of a key.** A key is created with an `active_from` time. Before it, the key is
//! *staged*: published in the JWKS, not yet signing, so validators' caches pick it up on their
//! normal refresh. From `active_from` on it is *active* (the newest such key signs), until the
//! next key's `active_from` *supersedes* it. Then it is *retired*: still published until every
//! token it signed has expired, i.e. until `superseded_at + max_token_lifetime + MAX_LEEWAY`
//! ([`tokens::KeySet`]'s retention rule). After that it is *withdrawn*: kept in the table for the
//! record, never loaded.
//!
//! **Private keys at rest.** The PKCS#8 document is stored base64-encoded, readable by whoever
//! reads the database, like the database's other secrets. A production deployment restricts
//! access to the database file or server accordingly, or keeps keys in a KMS/HSM and stores
//! only references here.

mod live;
mod store;

pub use live::LiveKeys;
pub use store::KeyStore;

use tokens::Algorithm;

/// The table each program's migrations create, in SQL both backends accept. A program's
/// migration must contain exactly this statement (programs test that it does).
pub const SCHEMA: &str = "CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    pkcs8_b64 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    active_from BIGINT NOT NULL
);";

/// What an operator sees of a key: never its private half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: Algorithm,
    /// When the key was created (seconds since the epoch).
    pub created_at: i64,
    /// When the key starts (or started) signing.
    pub active_from: i64,
    pub state: KeyState,
}

/// Where a key is in its life, at the time it was listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, signing from `active_from`.
    Staged,
    /// Signing new tokens.
    Active,
    /// Superseded, still published so the tokens it signed can be verified.
    Retired { published_until: i64 },
    /// Superseded long enough ago that no token it signed is still valid; no longer published.
    Withdrawn,
}

impl KeyState {
    /// A short label for listings.
    pub fn label(self) -> &'static str {
        match self {
            Self::Staged => "staged",
            Self::Active => "active",
            Self::Retired { .. } => "retired",
            Self::Withdrawn => "withdrawn",
        }
    }
}
