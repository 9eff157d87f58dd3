//! Browser sessions with this provider and the authorization requests waiting on them.

use ring::rand::SystemRandom;
use sqlx::{AnyPool, Row as _};

use super::StoreError;
use crate::auth::opaque::{Opaque, random_id};

/// A browser's session. Before login it carries the CSRF token (the synchronizer token of the
/// login forms); after password and TOTP it is the single sign-on session.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    pub id_hash: String,
    pub csrf_token: String,
    /// The password was verified for this user; the TOTP step is next.
    pub pending_user_id: Option<String>,
    /// Fully authenticated (password and TOTP).
    pub user_id: Option<String>,
    /// The public session id put in ID tokens (`sid`), distinct from the cookie value.
    pub sid: Option<String>,
    pub auth_time: Option<i64>,
    pub expires_at: i64,
}

impl BrowserSession {
    /// The authenticated user, with the session's `sid` and `auth_time`.
    pub fn authenticated(&self) -> Option<(&str, &str, i64)> {
        match (&self.user_id, &self.sid, self.auth_time) {
            (Some(user), Some(sid), Some(at)) => Some((user, sid, at)),
            _ => None,
        }
    }
}

const COLUMNS: &str = "id_hash, csrf_token, pending_user_id, user_id, sid, auth_time, expires_at";

fn read(row: &sqlx::any::AnyRow) -> Result<BrowserSession, StoreError> {
    Ok(BrowserSession {
        id_hash: row.try_get("id_hash")?,
        csrf_token: row.try_get("csrf_token")?,
        pending_user_id: row.try_get("pending_user_id")?,
        user_id: row.try_get("user_id")?,
        sid: row.try_get("sid")?,
        auth_time: row.try_get("auth_time")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// Starts an anonymous session; returns the cookie value and the session.
pub async fn create(
    pool: &AnyPool,
    rng: &SystemRandom,
    now: i64,
    lifetime: i64,
) -> Result<(Opaque, BrowserSession), StoreError> {
    let id = Opaque::generate(rng)?;
    let session = BrowserSession {
        id_hash: id.hashed(),
        csrf_token: Opaque::generate(rng)?.expose().to_owned(),
        pending_user_id: None,
        user_id: None,
        sid: None,
        auth_time: None,
        expires_at: now + lifetime,
    };
    // Expired sessions are swept here, where sessions are made, so the table stays bounded by
    // the number of live sessions without a separate job.
    sqlx::query("DELETE FROM browser_sessions WHERE expires_at < $1")
        .bind(now)
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO browser_sessions (id_hash, csrf_token, pending_user_id, user_id, sid, \
         auth_time, created_at, expires_at) VALUES ($1, $2, NULL, NULL, NULL, NULL, $3, $4)",
    )
    .bind(&session.id_hash)
    .bind(&session.csrf_token)
    .bind(now)
    .bind(session.expires_at)
    .execute(pool)
    .await?;
    Ok((id, session))
}

/// The live session named by a cookie value.
pub async fn get(
    pool: &AnyPool,
    cookie: &Opaque,
    now: i64,
) -> Result<Option<BrowserSession>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM browser_sessions WHERE id_hash = $1 AND expires_at > $2"
    ))
    .bind(cookie.hashed())
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(read).transpose()
}

/// Password verified: the TOTP step may follow in this session.
pub async fn set_pending_user(
    pool: &AnyPool,
    id_hash: &str,
    user_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE browser_sessions SET pending_user_id = $1 WHERE id_hash = $2")
        .bind(user_id.map(str::to_owned))
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Completes the login: a new session id and CSRF token replace the old ones (so a session id
/// planted before login is worthless after it: session fixation), and the pending
/// authorization requests follow the session.
pub async fn complete_login(
    pool: &AnyPool,
    rng: &SystemRandom,
    old: &BrowserSession,
    user_id: &str,
    now: i64,
    lifetime: i64,
) -> Result<(Opaque, BrowserSession), StoreError> {
    let id = Opaque::generate(rng)?;
    let session = BrowserSession {
        id_hash: id.hashed(),
        csrf_token: Opaque::generate(rng)?.expose().to_owned(),
        pending_user_id: None,
        user_id: Some(user_id.to_owned()),
        sid: Some(random_id(rng)?),
        auth_time: Some(now),
        expires_at: now + lifetime,
    };
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query("DELETE FROM browser_sessions WHERE id_hash = $1")
        .bind(&old.id_hash)
        .execute(&mut *tx)
        .await?;
    if deleted.rows_affected() != 1 {
        // A concurrent request completed (or ended) this session first.
        return Err(StoreError::Invalid(
            "the session ended during the login".into(),
        ));
    }
    sqlx::query(
        "INSERT INTO browser_sessions (id_hash, csrf_token, pending_user_id, user_id, sid, \
         auth_time, created_at, expires_at) VALUES ($1, $2, NULL, $3, $4, $5, $6, $7)",
    )
    .bind(&session.id_hash)
    .bind(&session.csrf_token)
    .bind(user_id)
    .bind(session.sid.clone())
    .bind(now)
    .bind(now)
    .bind(session.expires_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE pending_authorizations SET session_hash = $1 WHERE session_hash = $2")
        .bind(&session.id_hash)
        .bind(&old.id_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((id, session))
}

/// Ends a session (logout).
pub async fn delete(pool: &AnyPool, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM browser_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM pending_authorizations WHERE session_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Keeps a validated authorization request until the login completes.
pub async fn insert_pending(
    pool: &AnyPool,
    rng: &SystemRandom,
    session_hash: &str,
    request_json: &str,
    now: i64,
    lifetime: i64,
) -> Result<String, StoreError> {
    let id = random_id(rng)?;
    sqlx::query("DELETE FROM pending_authorizations WHERE expires_at < $1")
        .bind(now)
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO pending_authorizations (id, session_hash, request_json, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(session_hash)
    .bind(request_json)
    .bind(now)
    .bind(now + lifetime)
    .execute(pool)
    .await?;
    Ok(id)
}

/// The pending request `id`, only if it belongs to this session and has not expired.
pub async fn get_pending(
    pool: &AnyPool,
    id: &str,
    session_hash: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT request_json FROM pending_authorizations \
         WHERE id = $1 AND session_hash = $2 AND expires_at > $3",
    )
    .bind(id)
    .bind(session_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.try_get("request_json")).transpose()?)
}

pub async fn delete_pending(pool: &AnyPool, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM pending_authorizations WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
