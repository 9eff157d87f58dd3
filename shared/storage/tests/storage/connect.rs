//! Connecting: files are created, pragmas set, in-memory databases refused.

use sqlx::Row as _;
use storage::{Backend, Database, StorageError};

use crate::support::TestDb;

#[tokio::test]
async fn a_sqlite_file_is_created_with_wal_foreign_keys_and_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new/dir/iam.db");
    let db = Database::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    assert!(file.exists());
    // Every pooled connection has the pragmas, not only the first: hold several at once.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(db.pool().acquire().await.unwrap());
    }
    for connection in &mut held {
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut **connection)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(mode, "wal");
        let foreign_keys: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(&mut **connection)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(foreign_keys, 1);
        let busy: i64 = sqlx::query("PRAGMA busy_timeout")
            .fetch_one(&mut **connection)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(busy, 5_000);
    }
}

#[tokio::test]
async fn in_memory_sqlite_is_refused() {
    let error = Database::connect("sqlite::memory:").await.unwrap_err();
    assert!(matches!(error, StorageError::MemoryDatabase), "{error}");
}

#[tokio::test]
async fn migrations_run_once_on_every_backend() {
    for test in TestDb::every_backend().await {
        // A second run finds nothing to do.
        test.db.migrate(&crate::support::MIGRATOR).await.unwrap();
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys")
            .fetch_one(test.db.pool())
            .await
            .unwrap();
        assert_eq!(count, 0, "{:?}", test.db.backend());
    }
}
