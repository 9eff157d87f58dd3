//! Token families, refresh tokens and the register of issued access tokens.

use sqlx::{AnyPool, Row as _};

use super::{StoreError, from_json_list, from_space_list, to_json_list};

/// Why a family was revoked, as recorded.
pub mod reasons {
    pub const CODE_REPLAYED: &str = "authorization code replayed";
    pub const REFRESH_REUSED: &str = "rotated refresh token reused";
    pub const REVOKED_BY_CLIENT: &str = "revoked by the client";
    pub const LOGOUT: &str = "the customer logged out";
}

/// The grant a refresh token carries forward.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub token_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: Vec<String>,
    pub resources: Vec<String>,
    pub dpop_jkt: Option<String>,
    pub sid: String,
    pub auth_time: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
    /// From the family: when it was revoked, if it was.
    pub family_revoked_at: Option<i64>,
    pub family_expires_at: i64,
}

/// A new family, started by a code redemption.
#[derive(Debug, Clone)]
pub struct NewFamily<'a> {
    pub id: &'a str,
    pub code_hash: &'a str,
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub sid: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_family<'e>(
    pool: impl super::Executor<'e>,
    family: &NewFamily<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO token_families (id, code_hash, client_id, user_id, sid, created_at, \
         expires_at, revoked_at, revoked_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
    )
    .bind(family.id)
    .bind(family.code_hash)
    .bind(family.client_id)
    .bind(family.user_id)
    .bind(family.sid)
    .bind(family.now)
    .bind(family.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn insert_refresh<'e>(
    pool: impl super::Executor<'e>,
    grant: &RefreshGrant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, \
         resources, dpop_jkt, sid, auth_time, issued_at, expires_at, rotated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)",
    )
    .bind(&grant.token_hash)
    .bind(&grant.family_id)
    .bind(&grant.client_id)
    .bind(&grant.user_id)
    .bind(grant.scope.join(" "))
    .bind(to_json_list(&grant.resources))
    .bind(grant.dpop_jkt.clone())
    .bind(&grant.sid)
    .bind(grant.auth_time)
    .bind(grant.issued_at)
    .bind(grant.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get_refresh(
    pool: &AnyPool,
    token_hash: &str,
) -> Result<Option<RefreshGrant>, StoreError> {
    let row = sqlx::query(
        "SELECT r.token_hash, r.family_id, r.client_id, r.user_id, r.scope, r.resources, \
         r.dpop_jkt, r.sid, r.auth_time, r.issued_at, r.expires_at, r.rotated_at, \
         f.revoked_at AS family_revoked_at, f.expires_at AS family_expires_at \
         FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id \
         WHERE r.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(RefreshGrant {
        token_hash: row.try_get("token_hash")?,
        family_id: row.try_get("family_id")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        scope: from_space_list(&row.try_get::<String, _>("scope")?),
        resources: from_json_list("resources", &row.try_get::<String, _>("resources")?)?,
        dpop_jkt: row.try_get("dpop_jkt")?,
        sid: row.try_get("sid")?,
        auth_time: row.try_get("auth_time")?,
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        rotated_at: row.try_get("rotated_at")?,
        family_revoked_at: row.try_get("family_revoked_at")?,
        family_expires_at: row.try_get("family_expires_at")?,
    }))
}

/// Marks a refresh token used; `false` if it already was (the caller then treats the request as
/// reuse). One conditional statement, so two concurrent refreshes cannot both rotate.
pub async fn rotate_refresh<'e>(
    pool: impl super::Executor<'e>,
    token_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = $1 WHERE token_hash = $2 AND rotated_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes a family and every access token issued in it. Returns the number of families newly
/// revoked.
pub async fn revoke_family(
    pool: &AnyPool,
    family_id: &str,
    reason: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE token_families SET revoked_at = $1, revoked_reason = $2 \
         WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(family_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE access_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// The families started from a code (normally one).
pub async fn families_of_code(pool: &AnyPool, code_hash: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT id FROM token_families WHERE code_hash = $1")
        .bind(code_hash)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| r.try_get("id").map_err(StoreError::from))
        .collect()
}

/// The live families of a browser session (for logout).
pub async fn families_of_session(pool: &AnyPool, sid: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT id FROM token_families WHERE sid = $1 AND revoked_at IS NULL")
        .bind(sid)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| r.try_get("id").map_err(StoreError::from))
        .collect()
}

/// An issued access token, as registered.
#[derive(Debug, Clone)]
pub struct AccessRecord {
    pub jti: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

pub async fn insert_access<'e>(
    pool: impl super::Executor<'e>,
    record: &AccessRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_tokens (jti, family_id, client_id, user_id, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, NULL)",
    )
    .bind(&record.jti)
    .bind(&record.family_id)
    .bind(&record.client_id)
    .bind(&record.user_id)
    .bind(record.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get_access(pool: &AnyPool, jti: &str) -> Result<Option<AccessRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT jti, family_id, client_id, user_id, expires_at, revoked_at \
         FROM access_tokens WHERE jti = $1",
    )
    .bind(jti)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(AccessRecord {
        jti: row.try_get("jti")?,
        family_id: row.try_get("family_id")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    }))
}

pub async fn revoke_access(pool: &AnyPool, jti: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE access_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(jti)
        .execute(pool)
        .await?;
    Ok(())
}

/// Drops rows nothing can use any more: expired access tokens and refresh tokens, and families
/// past their absolute end.
pub async fn sweep(pool: &AnyPool, now: i64) -> Result<(), StoreError> {
    for statement in [
        "DELETE FROM access_tokens WHERE expires_at < $1",
        "DELETE FROM refresh_tokens WHERE expires_at < $1",
        "DELETE FROM token_families WHERE expires_at < $1",
    ] {
        sqlx::query(statement).bind(now).execute(pool).await?;
    }
    Ok(())
}
