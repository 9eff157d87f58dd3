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

/// Counts one failure, atomically. A counter whose last failure is older than `window_start`, or
/// whose lock has run out, starts again from one. Returns the counter after the increment.
pub async fn record_failure(
    pool: &AnyPool,
    key: &str,
    now: i64,
    window_start: i64,
) -> Result<Counter, StoreError> {
    sqlx::query(
        "INSERT INTO login_throttle (throttle_key, failures, last_failure_at, locked_until) \
         VALUES ($1, 1, $2, NULL) \
         ON CONFLICT (throttle_key) DO UPDATE SET \
           failures = CASE WHEN login_throttle.last_failure_at < $3 \
                             OR (login_throttle.locked_until IS NOT NULL AND login_throttle.locked_until <= $2) \
                           THEN 1 ELSE login_throttle.failures + 1 END, \
           locked_until = CASE WHEN login_throttle.locked_until IS NOT NULL AND login_throttle.locked_until <= $2 \
                               THEN NULL ELSE login_throttle.locked_until END, \
           last_failure_at = $2",
    )
    .bind(key)
    .bind(now)
    .bind(window_start)
    .execute(pool)
    .await?;
    get(pool, key)
        .await?
        .ok_or_else(|| StoreError::Invalid("the throttle row vanished".into()))
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
