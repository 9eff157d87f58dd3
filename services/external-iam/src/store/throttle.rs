//! Failed-login counters, kept in the database so that every replica sees the same counts.

use sqlx::{AnyPool, Row as _};

use super::StoreError;

/// A counter's state before an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub last_failure_at: i64,
    pub locked_until: Option<i64>,
}

pub async fn get(pool: &AnyPool, key: &str) -> Result<Option<Counter>, StoreError> {
    let row = sqlx::query(
        "SELECT failures, last_failure_at, locked_until FROM login_throttle WHERE throttle_key = $1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Counter {
        failures: row.try_get("failures")?,
        last_failure_at: row.try_get("last_failure_at")?,
        locked_until: row.try_get("locked_until")?,
    }))
}

/// Counts an attempt before its credentials are checked, as a compare-and-swap on the counter
/// read as `seen` (`None`: no row yet). `false` means another attempt changed the counter in
/// between; the caller reads it again and decides afresh. Taking the count *before* the check is
/// what stops a burst of parallel guesses from all being checked against the same old count.
pub async fn reserve(
    pool: &AnyPool,
    key: &str,
    seen: Option<Counter>,
    next_failures: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let done = match seen {
        None => sqlx::query(
            "INSERT INTO login_throttle (throttle_key, failures, last_failure_at, locked_until) \
                 VALUES ($1, $2, $3, NULL) ON CONFLICT (throttle_key) DO NOTHING",
        )
        .bind(key)
        .bind(next_failures)
        .bind(now)
        .execute(pool)
        .await?,
        Some(seen) => {
            // -1 stands for "no lock": COALESCE keeps the comparison portable (no `IS NOT
            // DISTINCT FROM` needed on either backend).
            sqlx::query(
                "UPDATE login_throttle SET failures = $1, last_failure_at = $2, locked_until = NULL \
                 WHERE throttle_key = $3 AND failures = $4 AND last_failure_at = $5 \
                   AND COALESCE(locked_until, -1) = $6",
            )
            .bind(next_failures)
            .bind(now)
            .bind(key)
            .bind(seen.failures)
            .bind(seen.last_failure_at)
            .bind(seen.locked_until.unwrap_or(-1))
            .execute(pool)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// Gives back an attempt counted by [`reserve`] that turned out not to be a failure (the right
/// password).
pub async fn release(pool: &AnyPool, key: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = $1 AND failures > 0",
    )
    .bind(key)
    .execute(pool)
    .await?;
    Ok(())
}

/// Locks the counter until `until`, unless it is already locked. `true` if this call locked it.
pub async fn lock(pool: &AnyPool, key: &str, until: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE login_throttle SET locked_until = $1 WHERE throttle_key = $2 AND locked_until IS NULL",
    )
    .bind(until)
    .bind(key)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Clears a counter (an account after a successful login).
pub async fn reset(pool: &AnyPool, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes counters that no longer count: no failure since `forgotten_before` and no lock
/// still running at `now`. Their next failure starts afresh either way (see
/// [`crate::auth::throttle`]); deleting them keeps one row per name ever typed from piling up.
pub async fn sweep(pool: &AnyPool, forgotten_before: i64, now: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM login_throttle WHERE last_failure_at < $1 \
           AND COALESCE(locked_until, -1) <= $2",
    )
    .bind(forgotten_before)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Every counter's key, for operators and tests.
pub async fn keys(pool: &AnyPool) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT throttle_key FROM login_throttle ORDER BY throttle_key")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get("throttle_key"))
        .collect::<Result<_, _>>()?)
}
