//! One connection pool for either backend, chosen by the URL.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor as _};

use crate::error::StorageError;

/// SQLite waits this long for a lock held by another connection (or process: an admin command
/// rotating a key while the server runs) before failing a statement.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// SQLite serialises writers anyway; a few connections serve concurrent readers and keep the
/// idle memory of the pool (each connection has its own page cache) small.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// How long a request waits for a free connection before failing instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The database server behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool and the backend it talks to. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
}

impl Database {
    /// Connects to `url`:
    ///
    /// - `sqlite://path/to/file.db` (or `sqlite:path`): the file and its directory are created
    ///   if missing, and every connection is set to WAL journaling (readers do not block the
    ///   writer), enforced foreign keys and a busy timeout. In-memory databases are refused:
    ///   each pooled connection would get its own.
    /// - `postgres://…` or `postgresql://…`.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        // Registers the SQLite and PostgreSQL drivers with `Any`; idempotent.
        install_default_drivers();
        let (backend, url) = prepare(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(SQLITE_MAX_CONNECTIONS)
                    // sqlx pings a pooled connection before handing it out, by default: a whole
                    // round trip to the connection's worker thread (two thread wake-ups) before
                    // every query, measured at about a tenth of the chat path's database cost.
                    // A SQLite connection is a file handle in this process: it cannot be dropped
                    // by a server or a network, so there is nothing for the ping to find. (A
                    // failing statement still fails its query.)
                    .test_before_acquire(false)
                    .after_connect(|connection, _| {
                        Box::pin(async move {
                            // Set per connection: pragmas are connection state, not file state
                            // (except the journal mode, which is cheap to confirm).
                            connection.execute("PRAGMA journal_mode = WAL").await?;
                            connection.execute("PRAGMA foreign_keys = ON").await?;
                            connection
                                .execute(
                                    format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                                        .as_str(),
                                )
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
            }
            Backend::Postgres => {
                options
                    .max_connections(POSTGRES_MAX_CONNECTIONS)
                    .connect(&url)
                    .await
            }
        }
        .map_err(StorageError::Connect)?;
        Ok(Self { pool, backend })
    }

    /// Runs the program's migrations (`sqlx::migrate!("./migrations")`) that have not run yet.
    pub async fn migrate(&self, migrator: &'static Migrator) -> Result<(), StorageError> {
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The pool, for queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl fmt::Debug for Database {
    // The URL is not kept, so it cannot be printed: it may contain a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// The backend of `url`, and the URL to hand the driver.
fn prepare(url: &str) -> Result<(Backend, String), StorageError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        return Err(StorageError::UnsupportedUrl {
            scheme: scheme.chars().take(32).collect(),
        });
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory = path.is_empty()
        || path == ":memory:"
        || query
            .split('&')
            .any(|pair| pair == "mode=memory" || pair == "vfs=memdb");
    if memory {
        return Err(StorageError::MemoryDatabase);
    }
    if let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| StorageError::CreateDirectory {
            path: parent.to_owned(),
            source,
        })?;
    }
    create_private_file(Path::new(path))?;
    // The driver opens an existing file only, unless told `mode=rwc`.
    let has_mode = query.split('&').any(|pair| pair.starts_with("mode="));
    let url = match (query.is_empty(), has_mode) {
        (true, _) => format!("sqlite://{path}?mode=rwc"),
        (false, false) => format!("sqlite://{path}?{query}&mode=rwc"),
        (false, true) => format!("sqlite://{path}?{query}"),
    };
    Ok((Backend::Sqlite, url))
}

/// Creates the database file, readable by its owner only, if it does not exist yet. The
/// databases hold signing keys and second-factor secrets; SQLite gives its `-wal` and `-shm`
/// files the permissions of the database file, so they stay private too.
fn create_private_file(path: &Path) -> Result<(), StorageError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StorageError::CreateFile {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_new_database_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("private.db");
        prepare(&format!("sqlite://{}", file.display())).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn sqlite_urls_gain_create_mode_and_memory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/db.sqlite");
        let (backend, url) = prepare(&format!("sqlite://{}", file.display())).unwrap();
        assert_eq!(backend, Backend::Sqlite);
        assert_eq!(url, format!("sqlite://{}?mode=rwc", file.display()));
        assert!(file.parent().unwrap().is_dir());
        let (_, url) = prepare(&format!("sqlite:{}?cache=shared", file.display())).unwrap();
        assert_eq!(
            url,
            format!("sqlite://{}?cache=shared&mode=rwc", file.display())
        );
        for memory in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://",
            "sqlite://x.db?mode=memory",
        ] {
            assert!(
                matches!(prepare(memory), Err(StorageError::MemoryDatabase)),
                "{memory}"
            );
        }
    }

    #[test]
    fn other_schemes_are_refused_without_echoing_the_url() {
        let error = prepare("mysql://root:hunter2@db/iam").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("\"mysql\""), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let (backend, _) = prepare("postgres://iam@localhost/iam").unwrap();
        assert_eq!(backend, Backend::Postgres);
    }
}
