//! Building and running the provider.

use std::net::SocketAddr;
use std::sync::Arc;

use storage::Database;
use storage::signing_keys::{KeyStore, LiveKeys};
use tokens::SharedClock;
use tokio::net::TcpListener;

use crate::config::{Config, ConfigError};
use crate::state::{Shared, StateError};
use crate::store::MIGRATOR;

/// Why the provider could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Opens (and migrates) the database and the signing-key store for `config`. Shared by the
/// server and the admin commands.
pub async fn open_storage(
    config: &Config,
    clock: SharedClock,
) -> Result<(Database, KeyStore), storage::StorageError> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate(&MIGRATOR).await?;
    let keys = KeyStore::new(db.clone(), clock, config.max_signed_lifetime());
    Ok((db, keys))
}

/// A provider bound to its port, ready to serve.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    state: Arc<Shared>,
}

impl App {
    /// Validates the configuration, opens and migrates the database, makes sure a signing key
    /// exists, and binds the listening socket.
    pub async fn build(config: Config, clock: SharedClock) -> Result<Self, StartError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Listen {
                    addr: config.listen,
                    source,
                })?;
        Self::build_on(listener, config, clock).await
    }

    /// Like [`Self::build`] on a socket bound already: tests bind port 0 first, so the issuer URL
    /// can name the port.
    pub async fn build_on(
        listener: TcpListener,
        config: Config,
        clock: SharedClock,
    ) -> Result<Self, StartError> {
        config.validate()?;
        let (db, key_store) = open_storage(&config, clock.clone()).await?;
        key_store.ensure_key().await?;
        let keys = LiveKeys::start(key_store, config.key_refresh_interval).await?;
        let state = Arc::new(Shared::new(config, clock, db, keys)?);
        Ok(Self { listener, state })
    }

    /// The address actually bound (tests listen on port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (tests reach the database and keys through it).
    pub fn state(&self) -> Arc<Shared> {
        self.state.clone()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.local_addr()?;
        tracing::info!(%addr, issuer = self.state.config.issuer.as_str(), "external IAM listening");
        let sweeper = tokio::spawn(sweep_loop(self.state.clone()));
        let router = crate::http::router(self.state);
        // The public port: slow clients are timed out (headers, then each request).
        let served = http_server::serve(
            self.listener,
            router,
            http_server::Limits::default(),
            shutdown,
        )
        .await;
        sweeper.abort();
        if served.is_ok() {
            // As the other five programs say it: whoever stops the system sees each one go.
            tracing::info!("external IAM stopped");
        }
        served
    }
}

/// How often rows nothing can use any more are deleted.
const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes expired tokens, families, codes whose families have ended, and login-throttle
/// counters that no longer count. Codes are kept as long as a family issued from them can live,
/// so a late replay still finds (and revokes) it.
async fn sweep_loop(state: Arc<Shared>) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        ticks.tick().await;
        let now = state.now();
        let codes_before = now - crate::config::secs(state.config.refresh_family_lifetime);
        let result = async {
            crate::store::tokens::sweep(state.pool(), now).await?;
            crate::store::codes::sweep(state.pool(), codes_before).await?;
            state.throttle.sweep(state.pool(), now).await.map(drop)
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, "sweeping expired rows failed; will retry");
        }
    }
}
