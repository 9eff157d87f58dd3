//! What can go wrong with storage. No variant carries a database URL (it may hold a password) or
//! key material.

use std::path::PathBuf;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URL names neither SQLite nor PostgreSQL. Only the scheme is kept: the rest of a
    /// database URL may hold a password.
    #[error("unsupported database URL scheme {scheme:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl { scheme: String },
    /// `sqlite::memory:` and friends: every pooled connection would open its own empty database.
    #[error(
        "an in-memory SQLite database cannot be pooled (each connection would get its own); use a file"
    )]
    MemoryDatabase,
    #[error("cannot create the database directory {}: {source}", path.display())]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the database file {}: {source}", path.display())]
    CreateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// A stored key cannot be used; the row is named, its content never printed.
    #[error("the stored signing key {kid:?} is unusable: {reason}")]
    CorruptKey { kid: String, reason: String },
    #[error("no signing key is active yet; run the program once to create one")]
    NoActiveKey,
    /// Rotation refuses to stage a second key: the published set would otherwise depend on
    /// which of two future keys activates first.
    #[error(
        "the key {kid:?} is already staged (signing from {active_from}); rotate again after that"
    )]
    AlreadyStaged { kid: String, active_from: i64 },
    #[error("a delay or lifetime is too large to represent")]
    DurationOutOfRange,
    #[error(transparent)]
    Key(#[from] tokens::KeyError),
    #[error(transparent)]
    KeySet(#[from] tokens::jwks::KeySetError),
}
