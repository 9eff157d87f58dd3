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

/// The environment variable naming a PostgreSQL server (a URL whose user may create databases).
const POSTGRES_VAR: &str = "TEST_POSTGRES_URL";

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
    // The skip is said out loud, so a run without PostgreSQL is not mistaken for a full one.
    #[allow(clippy::print_stderr)]
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_VAR) else {
            eprintln!("{POSTGRES_VAR} is not set: skipping the PostgreSQL half of this test");
            return None;
        };
        let admin = Database::connect(&admin_url).await.unwrap();
        let name = format!("storage_test_{}", random_suffix());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin.pool())
            .await
            .unwrap();
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let db = Database::connect(&format!("{base}/{name}")).await.unwrap();
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

fn random_suffix() -> String {
    let key = tokens::SigningKey::generate(tokens::Algorithm::EdDsa).unwrap();
    key.kid()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase()
}
