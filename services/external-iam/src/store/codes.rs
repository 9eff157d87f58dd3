//! Authorization codes: one-time, short-lived, bound to everything the request named.

use sqlx::{AnyPool, Row as _};

use super::{StoreError, from_json_list, from_space_list, to_json_list};

/// What a code was issued for. The code itself is never stored, only its hash.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: Vec<String>,
    pub resources: Vec<String>,
    /// RFC 9449 §10: the key the client announced with `dpop_jkt` at `/authorize`.
    pub dpop_jkt: Option<String>,
    pub sid: String,
    pub auth_time: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub redeemed_at: Option<i64>,
}

pub async fn insert(pool: &AnyPool, grant: &CodeGrant) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, \
         code_challenge, nonce, scope, resources, dpop_jkt, sid, auth_time, issued_at, \
         expires_at, redeemed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL)",
    )
    .bind(&grant.code_hash)
    .bind(&grant.client_id)
    .bind(&grant.user_id)
    .bind(&grant.redirect_uri)
    .bind(&grant.code_challenge)
    .bind(grant.nonce.clone())
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

pub async fn get(pool: &AnyPool, code_hash: &str) -> Result<Option<CodeGrant>, StoreError> {
    let row = sqlx::query(
        "SELECT code_hash, client_id, user_id, redirect_uri, code_challenge, nonce, scope, \
         resources, dpop_jkt, sid, auth_time, issued_at, expires_at, redeemed_at \
         FROM authorization_codes WHERE code_hash = $1",
    )
    .bind(code_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(CodeGrant {
        code_hash: row.try_get("code_hash")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        code_challenge: row.try_get("code_challenge")?,
        nonce: row.try_get("nonce")?,
        scope: from_space_list(&row.try_get::<String, _>("scope")?),
        resources: from_json_list("resources", &row.try_get::<String, _>("resources")?)?,
        dpop_jkt: row.try_get("dpop_jkt")?,
        sid: row.try_get("sid")?,
        auth_time: row.try_get("auth_time")?,
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        redeemed_at: row.try_get("redeemed_at")?,
    }))
}

/// Marks the code redeemed; `false` if it already was. The check and the write are one
/// statement, so of two concurrent redemptions exactly one wins.
pub async fn redeem<'e>(
    pool: impl super::Executor<'e>,
    code_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE authorization_codes SET redeemed_at = $1 \
         WHERE code_hash = $2 AND redeemed_at IS NULL",
    )
    .bind(now)
    .bind(code_hash)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets codes that expired long ago (a replay of one that old is refused as unknown,
/// which is just as safe: nothing issued from it outlives the refresh-token lifetime).
pub async fn sweep(pool: &AnyPool, before: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(())
}
