//! Scratch PostgreSQL databases for the PostgreSQL half of the programs' tests.
//!
//! `make test` runs the tests beside a throwaway server (`scripts/with-postgres.sh`) and names it
//! in `TEST_POSTGRES_URL`. A developer running `cargo test` alone has no server: those tests then
//! say they are skipped. Under CI they must never be skipped silently, so a missing variable there
//! is a failure.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Database, StorageError};

/// The variable naming a server on which tests may create databases.
pub const POSTGRES_URL_VAR: &str = "TEST_POSTGRES_URL";

/// Creates a new, empty database named `<prefix>_<unique suffix>` on the server named by
/// `TEST_POSTGRES_URL` and returns its URL; `Ok(None)` when no server is configured outside CI.
///
/// # Panics
/// When `CI` is set and `TEST_POSTGRES_URL` is not: CI must run the PostgreSQL tests.
pub async fn scratch_postgres_url(prefix: &str) -> Result<Option<String>, StorageError> {
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{POSTGRES_URL_VAR} is not set under CI: run the tests with `make test`, which \
             starts a PostgreSQL server for them"
        );
        tracing::warn!("{POSTGRES_URL_VAR} is not set: skipping the PostgreSQL run");
        return Ok(None);
    };
    let Some((base, _)) = admin_url.rsplit_once('/') else {
        panic!("{POSTGRES_URL_VAR} must end in a database path, such as /postgres");
    };
    // Tests of one binary run in parallel: the process id and a counter keep names apart
    // within and across test binaries, the clock across runs.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let name = format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let admin = Database::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.pool())
        .await?;
    admin.close().await;
    Ok(Some(format!("{base}/{name}")))
}
