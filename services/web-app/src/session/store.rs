//! The `pending_logins` and `sessions` tables. Plain `sqlx::query` with `$n` placeholders, which
//! SQLite and PostgreSQL both accept through `Any`.

use std::fmt;

use sqlx::{AnyPool, Row as _};
use tokens::{Algorithm, DpopKey, SharedClock, SigningKey};
use wire::chat::TimelineStep;

use super::opaque::Opaque;

/// Why a storage operation failed. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("a stored row is unusable: {0}")]
    Corrupt(&'static str),
}

/// A secret string (a token, a PKCE verifier, a private key, a CSRF token). `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A DPoP private key as stored: PKCS#8, base64url. One per login, so each session's tokens
/// are bound to a key no other session holds.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey(Sensitive);

impl StoredKey {
    pub fn from_key(key: &SigningKey) -> Self {
        Self(Sensitive::new(tokens::b64::encode(key.pkcs8_der())))
    }

    /// The key, ready to sign proofs with `clock`'s `iat`.
    pub fn load(&self, clock: SharedClock) -> Result<DpopKey, StoreError> {
        let der = tokens::b64::decode(self.0.expose())
            .map_err(|_| StoreError::Corrupt("the DPoP key is not base64url"))?;
        let key = SigningKey::from_pkcs8(Algorithm::Es256, &der, None)
            .map_err(|_| StoreError::Corrupt("the DPoP key is not an ES256 PKCS#8 key"))?;
        Ok(DpopKey::new(key, clock))
    }
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredKey(<redacted>)")
    }
}

/// What the callback needs to finish a login the app started.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub state: Sensitive,
    pub nonce: Sensitive,
    pub pkce_verifier: Sensitive,
    pub dpop_key: StoredKey,
    /// The login's request id: steps 1, 2 and 6 to 9 are all logged under it.
    pub request_id: String,
    /// Steps 1 and 2.
    pub steps: Vec<TimelineStep>,
    pub expires_at: i64,
}

/// The tokens of a session, as the token endpoint returned them.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: Sensitive,
    pub access_expires_at: i64,
    pub refresh_token: Option<Sensitive>,
    pub id_token: Sensitive,
    /// What the IAM granted (the token response's `scope`).
    pub scopes: Vec<String>,
}

impl Tokens {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }
}

/// A logged-in browser's session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    /// The customer (`sub` of the ID token).
    pub subject: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// The synchronizer token every form of this session carries.
    pub csrf_token: Sensitive,
    pub tokens: Tokens,
    /// The login's nonce: a refreshed ID token must carry it again, if it carries one.
    pub nonce: Sensitive,
    pub dpop_key: StoredKey,
    pub login_steps: Vec<TimelineStep>,
    pub login_request_id: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Session {
    /// A name to greet the customer with.
    pub fn greeting_name(&self) -> &str {
        self.display_name
            .as_deref()
            .or(self.username.as_deref())
            .unwrap_or(&self.subject)
    }
}

fn steps_to_json(steps: &[TimelineStep]) -> String {
    serde_json::to_string(steps).unwrap_or_else(|_| "[]".to_owned())
}

fn steps_from_json(text: &str) -> Result<Vec<TimelineStep>, StoreError> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt("stored steps are not JSON steps"))
}

/// Deletes logins and sessions that can no longer be used. Called where rows are made, so the
/// tables stay bounded by what is live without a separate job.
async fn sweep(pool: &AnyPool, now: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM pending_logins WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// Stores a started login under the pre-login cookie `id`.
pub async fn insert_pending(
    pool: &AnyPool,
    id: &Opaque,
    login: &PendingLogin,
    now: i64,
) -> Result<(), StoreError> {
    sweep(pool, now).await?;
    sqlx::query(
        "INSERT INTO pending_logins (id_hash, state, nonce, pkce_verifier, dpop_key, request_id, \
         steps, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.hashed())
    .bind(login.state.expose())
    .bind(login.nonce.expose())
    .bind(login.pkce_verifier.expose())
    .bind(login.dpop_key.0.expose())
    .bind(&login.request_id)
    .bind(steps_to_json(&login.steps))
    .bind(now)
    .bind(login.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes the login started under `id` out of the table: whatever the callback then finds, the
/// same `state`, verifier and key are never used twice. `None` when there is none, it has
/// expired, or a concurrent callback took it first.
pub async fn take_pending(
    pool: &AnyPool,
    id: &Opaque,
    now: i64,
) -> Result<Option<PendingLogin>, StoreError> {
    let id_hash = id.hashed();
    let row = sqlx::query(
        "SELECT state, nonce, pkce_verifier, dpop_key, request_id, steps, expires_at \
         FROM pending_logins WHERE id_hash = $1",
    )
    .bind(&id_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let deleted = sqlx::query("DELETE FROM pending_logins WHERE id_hash = $1")
        .bind(&id_hash)
        .execute(pool)
        .await?;
    // Whoever deletes the row owns the login: two racing callbacks cannot both continue.
    if deleted.rows_affected() != 1 {
        return Ok(None);
    }
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at <= now {
        return Ok(None);
    }
    Ok(Some(PendingLogin {
        state: Sensitive::new(row.try_get::<String, _>("state")?),
        nonce: Sensitive::new(row.try_get::<String, _>("nonce")?),
        pkce_verifier: Sensitive::new(row.try_get::<String, _>("pkce_verifier")?),
        dpop_key: StoredKey(Sensitive::new(row.try_get::<String, _>("dpop_key")?)),
        request_id: row.try_get("request_id")?,
        steps: steps_from_json(&row.try_get::<String, _>("steps")?)?,
        expires_at,
    }))
}

const SESSION_COLUMNS: &str = "id_hash, subject, username, display_name, csrf_token, \
    access_token, access_expires_at, refresh_token, id_token, nonce, scopes, dpop_key, \
    login_steps, login_request_id, created_at, expires_at";

fn read_session(row: &sqlx::any::AnyRow) -> Result<Session, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    Ok(Session {
        id_hash: row.try_get("id_hash")?,
        subject: row.try_get("subject")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        csrf_token: Sensitive::new(row.try_get::<String, _>("csrf_token")?),
        tokens: Tokens {
            access_token: Sensitive::new(row.try_get::<String, _>("access_token")?),
            access_expires_at: row.try_get("access_expires_at")?,
            refresh_token: row
                .try_get::<Option<String>, _>("refresh_token")?
                .map(Sensitive::new),
            id_token: Sensitive::new(row.try_get::<String, _>("id_token")?),
            scopes: scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        nonce: Sensitive::new(row.try_get::<String, _>("nonce")?),
        dpop_key: StoredKey(Sensitive::new(row.try_get::<String, _>("dpop_key")?)),
        login_steps: steps_from_json(&row.try_get::<String, _>("login_steps")?)?,
        login_request_id: row.try_get("login_request_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// Stores a new session under the cookie value `id` (its `id_hash` is ignored and recomputed).
pub async fn insert_session(
    pool: &AnyPool,
    id: &Opaque,
    session: &Session,
    now: i64,
) -> Result<(), StoreError> {
    sweep(pool, now).await?;
    sqlx::query(&format!(
        "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
    .bind(id.hashed())
    .bind(&session.subject)
    .bind(session.username.clone())
    .bind(session.display_name.clone())
    .bind(session.csrf_token.expose())
    .bind(session.tokens.access_token.expose())
    .bind(session.tokens.access_expires_at)
    .bind(
        session
            .tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
    )
    .bind(session.tokens.id_token.expose())
    .bind(session.nonce.expose())
    .bind(session.tokens.scopes.join(" "))
    .bind(session.dpop_key.0.expose())
    .bind(steps_to_json(&session.login_steps))
    .bind(&session.login_request_id)
    .bind(session.created_at)
    .bind(session.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The live session named by the cookie value `id`.
pub async fn get_session(
    pool: &AnyPool,
    id: &Opaque,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    get_session_by_hash(pool, &id.hashed(), now).await
}

/// The live session with this `id_hash` (a handler that already holds the session, looking
/// again after waiting for another request's refresh).
pub async fn get_session_by_hash(
    pool: &AnyPool,
    id_hash: &str,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1 AND expires_at > $2"
    ))
    .bind(id_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(read_session).transpose()
}

/// Records the login's steps once the session they end with exists (step 9 is reported only
/// after its row is written).
pub async fn set_login_steps(
    pool: &AnyPool,
    id_hash: &str,
    steps: &[TimelineStep],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET login_steps = $1 WHERE id_hash = $2")
        .bind(steps_to_json(steps))
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends a session.
pub async fn delete_session(pool: &AnyPool, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Replaces a session's tokens after a refresh, if they are still the ones it was refreshed
/// from (`previous_access`); `false` when another request replaced them first or the session
/// has ended.
pub async fn replace_tokens(
    pool: &AnyPool,
    id_hash: &str,
    previous_access: &Sensitive,
    tokens: &Tokens,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE sessions SET access_token = $1, access_expires_at = $2, refresh_token = $3, \
         id_token = $4, scopes = $5 WHERE id_hash = $6 AND access_token = $7",
    )
    .bind(tokens.access_token.expose())
    .bind(tokens.access_expires_at)
    .bind(tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()))
    .bind(tokens.id_token.expose())
    .bind(tokens.scopes.join(" "))
    .bind(id_hash)
    .bind(previous_access.expose())
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokens::ManualClock;

    #[test]
    fn stored_keys_round_trip_and_never_print() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let stored = StoredKey::from_key(&key);
        let loaded = stored.load(ManualClock::new(1)).unwrap();
        assert_eq!(loaded.jkt(), key.public_jwk().thumbprint());
        assert_eq!(format!("{stored:?}"), "StoredKey(<redacted>)");
        assert_eq!(format!("{:?}", Sensitive::new("token")), "<redacted>");
        let broken = StoredKey(Sensitive::new("not base64!"));
        assert!(matches!(
            broken.load(ManualClock::new(1)),
            Err(StoreError::Corrupt(_))
        ));
    }
}
