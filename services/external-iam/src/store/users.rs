//! Customers: credentials, TOTP secret and replay guard, entitlements.

use sqlx::{AnyPool, Row as _};

use super::{StoreError, from_space_list};
use crate::mfa::Totp;

/// A customer account.
#[derive(Debug, Clone)]
pub struct User {
    /// The `sub` of every token: random, never reassigned, not the username.
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    pub totp: Totp,
    /// The last RFC 6238 step accepted for this user.
    pub totp_last_step: Option<i64>,
    /// Scopes beyond `openid`/`profile`/`email` this user may be granted.
    pub entitlements: Vec<String>,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password_hash: String,
    pub totp: Totp,
    pub entitlements: Vec<String>,
}

/// Usernames are compared case-insensitively: stored and looked up in lower case.
pub fn normalise_username(name: &str) -> String {
    name.trim().to_lowercase()
}

const COLUMNS: &str = "id, username, display_name, email, password_hash, totp_secret, \
                       totp_last_step, entitlements";

fn read(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let secret: String = row.try_get("totp_secret")?;
    let totp = Totp::from_base32(&secret)
        .map_err(|_| StoreError::Corrupt("a stored TOTP secret is not base32".into()))?;
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        totp,
        totp_last_step: row.try_get("totp_last_step")?,
        entitlements: from_space_list(&row.try_get::<String, _>("entitlements")?),
    })
}

pub async fn by_username(pool: &AnyPool, username: &str) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
        .bind(normalise_username(username))
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(read).transpose()
}

pub async fn by_id(pool: &AnyPool, id: &str) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(read).transpose()
}

pub async fn insert(pool: &AnyPool, user: &NewUser, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, username, display_name, email, password_hash, totp_secret, \
         totp_last_step, entitlements, created_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
    )
    .bind(&user.id)
    .bind(normalise_username(&user.username))
    .bind(user.display_name.clone())
    .bind(user.email.clone())
    .bind(&user.password_hash)
    .bind(user.totp.to_base32())
    .bind(user.entitlements.join(" "))
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_password(
    pool: &AnyPool,
    username: &str,
    password_hash: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(password_hash)
        .bind(normalise_username(username))
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_totp(pool: &AnyPool, username: &str, totp: &Totp) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = NULL WHERE username = $2")
            .bind(totp.to_base32())
            .bind(normalise_username(username))
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `step` as used, only if it is later than the last one recorded. `false` means another
/// login consumed this step (or a later one) first: the code is a replay. The comparison happens
/// in the database, so two replicas racing with the same code cannot both win.
pub async fn consume_totp_step(
    pool: &AnyPool,
    user_id: &str,
    step: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE users SET totp_last_step = $1 \
         WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list(pool: &AnyPool) -> Result<Vec<User>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(read).collect()
}

/// Creates the account, or resets an existing one of the same name to these values, keeping
/// the given id (for the idempotent demo seed).
pub async fn replace(pool: &AnyPool, user: &NewUser, now: i64) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM users WHERE username = $1 OR id = $2")
        .bind(normalise_username(&user.username))
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO users (id, username, display_name, email, password_hash, totp_secret, \
         totp_last_step, entitlements, created_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
    )
    .bind(&user.id)
    .bind(normalise_username(&user.username))
    .bind(user.display_name.clone())
    .bind(user.email.clone())
    .bind(&user.password_hash)
    .bind(user.totp.to_base32())
    .bind(user.entitlements.join(" "))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
