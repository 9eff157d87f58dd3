//! The `signing_keys` table: creating, rotating, listing and loading keys.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sqlx::Row as _;
use tokens::jwks::KeySet;
use tokens::validate::MAX_LEEWAY;
use tokens::{Algorithm, SharedClock, SigningKey};

use super::{KeyInfo, KeyState};
use crate::database::Database;
use crate::error::StorageError;

/// The algorithm of keys this store creates unless told otherwise (the design's default).
const DEFAULT_ALGORITHM: Algorithm = Algorithm::Es256;

/// A program's signing keys in its database.
#[derive(Debug, Clone)]
pub struct KeyStore {
    db: Database,
    clock: SharedClock,
    max_token_lifetime: Duration,
    algorithm: Algorithm,
}

/// A row, without its private key.
#[derive(Debug, Clone)]
struct Meta {
    kid: String,
    alg: String,
    created_at: i64,
    active_from: i64,
}

/// The keys as of one instant, each classified.
struct Classified {
    keys: Vec<(Meta, KeyState)>,
}

impl KeyStore {
    /// Keys of `db`, judged by `clock`, for tokens that live at most `max_token_lifetime` (the
    /// retention of retired keys depends on it).
    pub fn new(db: Database, clock: SharedClock, max_token_lifetime: Duration) -> Self {
        Self {
            db,
            clock,
            max_token_lifetime,
            algorithm: DEFAULT_ALGORITHM,
        }
    }

    /// Creates keys of `algorithm` from now on (ES256 by default; EdDSA is allowed).
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn max_token_lifetime(&self) -> Duration {
        self.max_token_lifetime
    }

    /// On first start: creates a key, active at once, if the table is empty.
    ///
    /// One statement inserts only into an empty table, so two processes starting together
    /// create one key on SQLite. On PostgreSQL both may insert; the newer key then simply
    /// supersedes the other at once, which is harmless.
    pub async fn ensure_key(&self) -> Result<(), StorageError> {
        let key = SigningKey::generate(self.algorithm)?;
        let now = self.clock.now();
        let inserted = sqlx::query(
            "INSERT INTO signing_keys (kid, alg, pkcs8_b64, created_at, active_from) \
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
        )
        .bind(key.kid())
        .bind(self.algorithm.as_str())
        .bind(STANDARD.encode(key.pkcs8_der()))
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        if inserted > 0 {
            tracing::info!(kid = key.kid(), alg = %self.algorithm, "first signing key created");
        }
        Ok(())
    }

    /// Rotation: a new key, published now (in the JWKS), signing from now + `delay`.
    ///
    /// Choose `delay` at least as long as validators cache the JWKS, so every cache holds the
    /// key before the first token signed with it arrives. A zero delay (a leaked key) relies on
    /// validators refetching on an unknown `kid` instead. Refused while another key is staged.
    pub async fn rotate(&self, delay: Duration) -> Result<KeyInfo, StorageError> {
        let now = self.clock.now();
        let delay = i64::try_from(delay.as_secs()).map_err(|_| StorageError::DurationOutOfRange)?;
        let classified = self.classify().await?;
        let Some(current) = classified.active() else {
            return Err(StorageError::NoActiveKey);
        };
        // Keys are ordered by `active_from` alone (the table has no sequence), so a successor
        // starts at least one second after the key it supersedes: a rotation in the same second
        // as the last one waits a second rather than tying with it.
        let active_from = now
            .checked_add(delay)
            .ok_or(StorageError::DurationOutOfRange)?
            .max(current.active_from.saturating_add(1));
        if let Some(staged) = classified.staged() {
            return Err(StorageError::AlreadyStaged {
                kid: staged.kid.clone(),
                active_from: staged.active_from,
            });
        }
        // Between the check above and this insert another admin could stage a key too; two
        // operators rotating the same IAM within milliseconds is not a case worth a lock.
        let key = SigningKey::generate(self.algorithm)?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, pkcs8_b64, created_at, active_from) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key.kid())
        .bind(self.algorithm.as_str())
        .bind(STANDARD.encode(key.pkcs8_der()))
        .bind(now)
        .bind(active_from)
        .execute(self.db.pool())
        .await?;
        tracing::info!(kid = key.kid(), active_from, "signing key staged");
        Ok(KeyInfo {
            kid: key.kid().to_owned(),
            alg: self.algorithm,
            created_at: now,
            active_from,
            state: if active_from <= now {
                KeyState::Active
            } else {
                KeyState::Staged
            },
        })
    }

    /// Every key in the table, oldest first, with its state now.
    pub async fn list(&self) -> Result<Vec<KeyInfo>, StorageError> {
        self.classify()
            .await?
            .keys
            .into_iter()
            .map(|(meta, state)| {
                Ok(KeyInfo {
                    alg: algorithm(&meta)?,
                    kid: meta.kid,
                    created_at: meta.created_at,
                    active_from: meta.active_from,
                    state,
                })
            })
            .collect()
    }

    /// The [`KeySet`] as of now: the active key signs, the staged key and the retired keys
    /// within their retention are published, withdrawn keys are not loaded at all.
    pub async fn load(&self) -> Result<KeySet, StorageError> {
        let classified = self.classify().await?;
        let mut active = None;
        let mut staged = None;
        let mut retired = Vec::new();
        for (meta, state) in &classified.keys {
            match state {
                KeyState::Active => active = Some(self.private_key(meta).await?),
                // Only the first staged key: `rotate` never stages two, and a set publishes one.
                KeyState::Staged if staged.is_none() => {
                    staged = Some(self.private_key(meta).await?);
                }
                KeyState::Retired { .. } => {
                    let key = self.private_key(meta).await?;
                    retired.push((key.public_jwk().clone(), superseded_at(&classified, meta)));
                }
                KeyState::Staged | KeyState::Withdrawn => {}
            }
        }
        let active = active.ok_or(StorageError::NoActiveKey)?;
        Ok(KeySet::from_parts(
            active,
            staged,
            retired,
            self.max_token_lifetime,
            self.clock.clone(),
        )?)
    }

    /// Reads every row's metadata and classifies it as of now.
    async fn classify(&self) -> Result<Classified, StorageError> {
        let rows = sqlx::query(
            "SELECT kid, alg, created_at, active_from FROM signing_keys \
             ORDER BY active_from, created_at, kid",
        )
        .fetch_all(self.db.pool())
        .await?;
        let metas = rows
            .iter()
            .map(|row| {
                Ok(Meta {
                    kid: row.try_get("kid")?,
                    alg: row.try_get("alg")?,
                    created_at: row.try_get("created_at")?,
                    active_from: row.try_get("active_from")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(classify(metas, self.clock.now(), self.retention()))
    }

    async fn private_key(&self, meta: &Meta) -> Result<SigningKey, StorageError> {
        let corrupt = |reason: &str| StorageError::CorruptKey {
            kid: meta.kid.clone(),
            reason: reason.to_owned(),
        };
        let encoded: String =
            sqlx::query_scalar("SELECT pkcs8_b64 FROM signing_keys WHERE kid = $1")
                .bind(&meta.kid)
                .fetch_one(self.db.pool())
                .await?;
        let der = STANDARD
            .decode(encoded.trim())
            .map_err(|_| corrupt("the PKCS#8 column is not base64"))?;
        let key = SigningKey::from_pkcs8(algorithm(meta)?, &der, None)
            .map_err(|error| corrupt(&error.to_string()))?;
        // The kid is the key's RFC 7638 thumbprint; a row whose kid does not match its key was
        // edited by hand or copied wrongly, and would publish one key under another's name.
        if key.kid() != meta.kid {
            return Err(corrupt("the kid is not the thumbprint of the stored key"));
        }
        Ok(key)
    }

    /// How long a retired key stays published (see [`KeySet`]).
    fn retention(&self) -> i64 {
        let lifetime = i64::try_from(self.max_token_lifetime.as_secs()).unwrap_or(i64::MAX);
        let leeway = i64::try_from(MAX_LEEWAY.as_secs()).unwrap_or(i64::MAX);
        lifetime.saturating_add(leeway)
    }
}

impl Classified {
    fn active(&self) -> Option<&Meta> {
        self.keys
            .iter()
            .find(|(_, state)| *state == KeyState::Active)
            .map(|(meta, _)| meta)
    }

    fn staged(&self) -> Option<&Meta> {
        self.keys
            .iter()
            .find(|(_, state)| *state == KeyState::Staged)
            .map(|(meta, _)| meta)
    }
}

/// Keys ordered by `active_from`: those that have started signing, the newest of which is
/// active and each earlier one superseded by its successor; and those still to start.
fn classify(metas: Vec<Meta>, now: i64, retention: i64) -> Classified {
    let started = metas.iter().filter(|meta| meta.active_from <= now).count();
    let keys = metas
        .iter()
        .enumerate()
        .map(|(index, meta)| {
            let state = if index >= started {
                KeyState::Staged
            } else if index + 1 == started {
                KeyState::Active
            } else {
                let superseded_at = metas[index + 1].active_from;
                let published_until = superseded_at.saturating_add(retention);
                if now < published_until {
                    KeyState::Retired { published_until }
                } else {
                    KeyState::Withdrawn
                }
            };
            (meta.clone(), state)
        })
        .collect();
    Classified { keys }
}

/// When `meta` stopped signing: the `active_from` of the key after it.
fn superseded_at(classified: &Classified, meta: &Meta) -> i64 {
    classified
        .keys
        .iter()
        .skip_while(|(other, _)| other.kid != meta.kid)
        .nth(1)
        .map_or(meta.active_from, |(next, _)| next.active_from)
}

fn algorithm(meta: &Meta) -> Result<Algorithm, StorageError> {
    Algorithm::from_name(&meta.alg).ok_or_else(|| StorageError::CorruptKey {
        kid: meta.kid.clone(),
        reason: format!("unknown algorithm {:?}", meta.alg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kid: &str, active_from: i64) -> Meta {
        Meta {
            kid: kid.to_owned(),
            alg: "ES256".to_owned(),
            created_at: 0,
            active_from,
        }
    }

    fn states(metas: Vec<Meta>, now: i64) -> Vec<KeyState> {
        classify(metas, now, 100)
            .keys
            .into_iter()
            .map(|(_, state)| state)
            .collect()
    }

    #[test]
    fn keys_move_from_staged_to_active_to_retired_to_withdrawn() {
        let keys = || vec![meta("a", 0), meta("b", 50), meta("c", 1_000)];
        assert_eq!(
            states(keys(), 49),
            [KeyState::Active, KeyState::Staged, KeyState::Staged]
        );
        assert_eq!(
            states(keys(), 50),
            [
                KeyState::Retired {
                    published_until: 150
                },
                KeyState::Active,
                KeyState::Staged
            ]
        );
        assert_eq!(
            states(keys(), 150),
            [KeyState::Withdrawn, KeyState::Active, KeyState::Staged]
        );
        assert_eq!(
            states(keys(), 1_000),
            [
                KeyState::Withdrawn,
                KeyState::Retired {
                    published_until: 1_100
                },
                KeyState::Active
            ]
        );
    }
}
