//! Registered relying parties.

use std::fmt;
use std::str::FromStr;

use sqlx::{AnyPool, Row as _};

use super::{StoreError, from_json_list, from_space_list, to_json_list};

/// How a client authenticates at the token, introspection and revocation endpoints
/// (the `token_endpoint_auth_method` values of RFC 7591 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// A JWT signed with the client's key (RFC 7523, OpenID Connect Core §9).
    PrivateKeyJwt,
    /// A public client: no authentication; PKCE and DPoP bind its tokens instead.
    None,
}

impl AuthMethod {
    pub const ALL: [Self; 3] = [Self::ClientSecretBasic, Self::PrivateKeyJwt, Self::None];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMethod {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| {
                "unknown auth method; use client_secret_basic, private_key_jwt or none".to_owned()
            })
    }
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub auth_method: AuthMethod,
    /// SHA-256 of the secret (see [`crate::auth::opaque`]: secrets are generated with 256 bits).
    pub secret_hash: Option<String>,
    /// The client's public keys, for `private_key_jwt`.
    pub jwks: Option<tokens::Jwks>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub resources: Vec<String>,
}

impl Client {
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub fn allows_resource(&self, resource: &str) -> bool {
        self.resources.iter().any(|r| r == resource)
    }
}

fn read(row: &sqlx::any::AnyRow) -> Result<Client, StoreError> {
    let method: String = row.try_get("auth_method")?;
    let jwks: Option<String> = row.try_get("jwks")?;
    let jwks = jwks
        .map(|text| {
            tokens::Jwks::from_json(text.as_bytes())
                .map_err(|_| StoreError::Corrupt("a client's `jwks` is not a JWK Set".into()))
        })
        .transpose()?;
    Ok(Client {
        client_id: row.try_get("client_id")?,
        auth_method: method.parse().map_err(StoreError::Corrupt)?,
        secret_hash: row.try_get("secret_hash")?,
        jwks,
        redirect_uris: from_json_list(
            "redirect_uris",
            &row.try_get::<String, _>("redirect_uris")?,
        )?,
        post_logout_redirect_uris: from_json_list(
            "post_logout_redirect_uris",
            &row.try_get::<String, _>("post_logout_redirect_uris")?,
        )?,
        scopes: from_space_list(&row.try_get::<String, _>("scopes")?),
        resources: from_json_list("resources", &row.try_get::<String, _>("resources")?)?,
    })
}

const COLUMNS: &str = "client_id, auth_method, secret_hash, jwks, redirect_uris, \
                       post_logout_redirect_uris, scopes, resources";

pub async fn get(pool: &AnyPool, client_id: &str) -> Result<Option<Client>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM clients WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(read).transpose()
}

pub async fn list(pool: &AnyPool) -> Result<Vec<Client>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM clients ORDER BY client_id"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(read).collect()
}

/// Inserts or replaces a client (replacing keeps `seed-demo` idempotent).
pub async fn upsert(
    pool: &AnyPool,
    client: &Client,
    jwks_json: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM clients WHERE client_id = $1")
        .bind(&client.client_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO clients (client_id, auth_method, secret_hash, jwks, redirect_uris, \
         post_logout_redirect_uris, scopes, resources, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&client.client_id)
    .bind(client.auth_method.as_str())
    .bind(client.secret_hash.clone())
    .bind(jwks_json)
    .bind(to_json_list(&client.redirect_uris))
    .bind(to_json_list(&client.post_logout_redirect_uris))
    .bind(client.scopes.join(" "))
    .bind(to_json_list(&client.resources))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove(pool: &AnyPool, client_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
        .bind(client_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a client assertion's `jti`; `false` if it was already used (RFC 7523 §3 point 7).
/// Expired entries are swept on the way.
pub async fn consume_assertion_jti(
    pool: &AnyPool,
    client_id: &str,
    jti: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, StoreError> {
    sqlx::query("DELETE FROM client_assertion_jtis WHERE expires_at < $1")
        .bind(now)
        .execute(pool)
        .await?;
    let done = sqlx::query(
        "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (client_id, jti) DO NOTHING",
    )
    .bind(client_id)
    .bind(jti)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
