//! Registrations in the database.

use std::collections::BTreeMap;

use sqlx::Row as _;
use storage::Database;
use workload_identity::SpiffeId;

use super::{Audience, ExchangeRight, Grant, Registration, parse_spiffe_id};

/// Why a registration could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} is already registered; use --replace to overwrite it")]
    AlreadyRegistered(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Stores `registration`, replacing an existing one for the same SPIFFE ID only if `replace`.
/// All of it or nothing: one transaction.
pub async fn put(
    db: &Database,
    registration: &Registration,
    replace: bool,
    now: i64,
) -> Result<(), StoreError> {
    let id = registration.spiffe_id.as_str();
    let exchange = registration
        .exchange
        .as_ref()
        .map(|right| right.subject_audience.as_str().to_owned());
    let mut tx = db.pool().begin().await?;
    let exists = sqlx::query("SELECT 1 FROM registrations WHERE spiffe_id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if exists && !replace {
        return Err(StoreError::AlreadyRegistered(id.to_owned()));
    }
    sqlx::query("DELETE FROM registration_grants WHERE spiffe_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if exists {
        sqlx::query(
            "UPDATE registrations SET description = $2, exchange_subject_audience = $3, \
             updated_at = $4 WHERE spiffe_id = $1",
        )
        .bind(id)
        .bind(&registration.description)
        .bind(exchange)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO registrations \
             (spiffe_id, description, exchange_subject_audience, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id)
        .bind(&registration.description)
        .bind(exchange)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    for grant in &registration.grants {
        sqlx::query(
            "INSERT INTO registration_grants (spiffe_id, audience, scopes) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(grant.audience.as_str())
        .bind(grant.scope_list())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes the registration of `spiffe_id`; `false` if there was none.
pub async fn remove(db: &Database, spiffe_id: &SpiffeId) -> Result<bool, StoreError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM registration_grants WHERE spiffe_id = $1")
        .bind(spiffe_id.as_str())
        .execute(&mut *tx)
        .await?;
    let removed = sqlx::query("DELETE FROM registrations WHERE spiffe_id = $1")
        .bind(spiffe_id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(removed > 0)
}

/// Every registration, by SPIFFE ID. A row that no longer parses (edited by hand) is left out
/// with a warning: one bad row must not take every workload's tokens away.
pub async fn list(db: &Database) -> Result<Vec<Registration>, StoreError> {
    let rows = sqlx::query(
        "SELECT spiffe_id, description, exchange_subject_audience FROM registrations \
         ORDER BY spiffe_id",
    )
    .fetch_all(db.pool())
    .await?;
    let grant_rows = sqlx::query(
        "SELECT spiffe_id, audience, scopes FROM registration_grants ORDER BY spiffe_id, audience",
    )
    .fetch_all(db.pool())
    .await?;
    let mut grants: BTreeMap<String, Vec<Grant>> = BTreeMap::new();
    for row in &grant_rows {
        let id: String = row.try_get("spiffe_id")?;
        let audience: String = row.try_get("audience")?;
        let scopes: String = row.try_get("scopes")?;
        match Grant::new(&audience, &scopes) {
            Ok(grant) => grants.entry(id).or_default().push(grant),
            Err(error) => tracing::warn!(spiffe_id = %id, %error, "skipping an unreadable grant"),
        }
    }
    let mut registrations = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("spiffe_id")?;
        let description: String = row.try_get("description")?;
        let exchange: Option<String> = row.try_get("exchange_subject_audience")?;
        let parsed = parse_spiffe_id(&id).and_then(|spiffe_id| {
            let exchange = exchange
                .as_deref()
                .map(Audience::parse)
                .transpose()?
                .map(|subject_audience| ExchangeRight { subject_audience });
            Ok(Registration {
                spiffe_id,
                description,
                grants: grants.remove(&id).unwrap_or_default(),
                exchange,
            })
        });
        match parsed {
            Ok(registration) => registrations.push(registration),
            Err(error) => {
                tracing::warn!(spiffe_id = %id, %error, "skipping an unreadable registration");
            }
        }
    }
    Ok(registrations)
}
