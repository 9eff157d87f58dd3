//! Everything the provider keeps in its database, one file per table family. Queries are plain
//! `sqlx::query` with `$n` placeholders, which both SQLite and PostgreSQL accept through `Any`.

pub mod audit;
pub mod clients;
pub mod codes;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

/// Why a storage operation failed. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("a stored row is unusable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Rng(#[from] crate::auth::opaque::RngFailure),
    #[error("{0}")]
    Invalid(String),
}

/// Anything a query runs on: the pool, or a transaction (`&mut *tx`) so several writes commit
/// together (one commit, one fsync on SQLite).
pub trait Executor<'e>: sqlx::Executor<'e, Database = sqlx::Any> {}
impl<'e, T: sqlx::Executor<'e, Database = sqlx::Any>> Executor<'e> for T {}

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A JSON array of strings, as stored in TEXT columns.
pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

pub(crate) fn from_json_list(column: &str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|_| StoreError::Corrupt(format!("`{column}` is not a JSON array of strings")))
}

/// Space-separated lists (scopes), as stored in TEXT columns.
pub(crate) fn from_space_list(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
