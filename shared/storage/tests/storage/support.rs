//! A fresh database per test, on each backend available.

use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use storage::Database;
use storage::signing_keys::KeyStore;
use tempfile::TempDir;
use tokens::ManualClock;

/// The migrations of these tests: exactly the schema the crate documents.
pub static MIGRATOR: Migrator = sqlx::migrate!("tests/storage/migrations");

pub const LIFETIME: Duration = Duration::from_secs(900);
pub const NOW: i64 = 1_700_000_000;

pub struct TestDb {
    pub db: Database,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("keys.db").display());
        let db = Database::connect(&url).await.unwrap();
        db.migrate(&MIGRATOR).await.unwrap();
        Self {
            db,
            _dir: Some(dir),
        }
    }

    /// A new, empty database on the server named by `TEST_POSTGRES_URL`; `None` without one.
    pub async fn postgres() -> Option<Self> {
        let url = storage::testing::scratch_postgres_url("storage_test")
            .await
            .unwrap()?;
        let db = Database::connect(&url).await.unwrap();
        db.migrate(&MIGRATOR).await.unwrap();
        Some(Self { db, _dir: None })
    }

    /// SQLite, then PostgreSQL when available.
    pub async fn every_backend() -> Vec<Self> {
        let mut all = vec![Self::sqlite().await];
        all.extend(Self::postgres().await);
        all
    }

    pub fn keys(&self, clock: &Arc<ManualClock>) -> KeyStore {
        KeyStore::new(self.db.clone(), clock.clone(), LIFETIME)
    }
}
