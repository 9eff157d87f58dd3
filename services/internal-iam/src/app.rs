//! Building the server from its configuration, and running it until told to stop.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use ring::rand::SystemRandom;
use storage::signing_keys::{KeyStore, LiveKeys};
use storage::{Database, StorageError};
use tokens::{SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use workload_identity::{
    DEFAULT_RELOAD_INTERVAL, FileSource, IdentitySource as _, LoadError, MtlsAcceptor, PeerPolicy,
};

use crate::MIGRATOR;
use crate::audit::AuditLog;
use crate::config::{Config, MAX_TOKEN_LIFETIME, issuer_string};
use crate::registry::LiveRegistry;
use crate::registry::policy::{self, PolicyError};
use crate::registry::store::StoreError;
use crate::state::{AppState, Inner};
use crate::subject::{SubjectSetupError, SubjectValidators};
use crate::{handshake, health, metadata, token};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot load registrations: {0}")]
    Registry(#[from] StoreError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("cannot load this workload's identity: {0}")]
    Identity(#[from] LoadError),
    #[error("cannot build the TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    Subject(#[from] SubjectSetupError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

/// The parts of a running server that tests and the binary may need to reach.
#[derive(Debug, Clone)]
pub struct AppHandles {
    pub db: Database,
    pub keys: Arc<LiveKeys>,
    pub registry: Arc<LiveRegistry>,
    pub audit: AuditLog,
}

/// A built server, bound to its addresses, not yet serving.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    acceptor: MtlsAcceptor,
    router: Router,
    handles: AppHandles,
    /// Keeps the identity files reloaded while the server runs.
    _identity: Arc<FileSource>,
    _reloader: JoinHandle<()>,
}

impl App {
    /// Builds the server on the system clock.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds the server with `clock` for every token time (tests pass a manual clock; TLS
    /// certificate validity is always judged by the real time).
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<Self, StartError> {
        config.lifetimes.check().map_err(StartError::Config)?;

        let db = Database::connect(config.database.database_url.expose()).await?;
        db.migrate(&MIGRATOR).await?;
        if let Some(path) = &config.policy {
            let registrations = policy::read(path, &config.trust_domain)?;
            let seeded = policy::seed(&db, &registrations, clock.now()).await?;
            tracing::info!(seeded, policy = %path.display(), "registrations seeded");
        }

        let store = KeyStore::new(db.clone(), clock.clone(), MAX_TOKEN_LIFETIME);
        store.ensure_key().await?;
        let keys = LiveKeys::start(store, config.key_refresh).await?;
        let validators = SubjectValidators::new(&config.external, clock.clone())?;
        let registry = LiveRegistry::start(db.clone(), validators, config.registry_refresh).await?;
        let (audit, _writer) = AuditLog::start(db.clone());

        let identity = FileSource::load(config.identity.files())?;
        let own_id = identity.current().spiffe_id().clone();
        if !own_id.is_member_of(&config.trust_domain) {
            return Err(StartError::Config(format!(
                "this IAM's SVID names {own_id}, outside the configured trust domain {}",
                config.trust_domain
            )));
        }
        let reloader = identity.spawn_reloader(DEFAULT_RELOAD_INTERVAL);
        // Any workload of the trust domain may connect; each request is then authorized by
        // its registration. Workloads of other trust domains never complete a handshake.
        let tls = workload_identity::server_config(
            identity.clone(),
            PeerPolicy::TrustDomainMember(config.trust_domain.clone()),
        )?;
        let acceptor = MtlsAcceptor::new(tls)
            .on_refusal(handshake::refusal_hook(audit.clone(), clock.clone()));

        let state = AppState::new(Inner {
            issuer: issuer_string(&config.issuer),
            trust_domain: config.trust_domain.clone(),
            keys: keys.clone(),
            registry: registry.clone(),
            audit: audit.clone(),
            clock,
            lifetimes: config.lifetimes,
            rng: SystemRandom::new(),
            metadata: metadata::document(&config.issuer),
        });
        let paths = metadata::Paths::for_issuer(&config.issuer);
        let router = Router::new()
            .route(&paths.token, post(token::token))
            .route(&paths.jwks, get(metadata::jwks))
            .route(&paths.metadata, get(metadata::metadata))
            .route(health::PATH, get(health::healthz))
            .with_state(state);

        let listener = bind(config.listen).await?;
        let health_listener = match config.health_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        tracing::info!(
            spiffe_id = %own_id,
            issuer = %issuer_string(&config.issuer),
            listen = %listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?,
            "internal IAM ready"
        );
        Ok(Self {
            listener,
            health_listener,
            acceptor,
            router,
            handles: AppHandles {
                db,
                keys,
                registry,
                audit,
            },
            _identity: identity,
            _reloader: reloader,
        })
    }

    /// The address of the mutual-TLS listener (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The address of the plain health listener, if configured.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    pub fn handles(&self) -> AppHandles {
        self.handles.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets open requests finish and
    /// writes every queued audit event before returning.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let health = self.health_listener.map(|listener| {
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let serving = axum::serve(listener, health::plain_router()).with_graceful_shutdown(
                    async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    },
                );
                if let Err(error) = serving.await {
                    tracing::warn!(%error, "the health listener stopped");
                }
            })
        });
        self.acceptor
            .serve(self.listener, self.router, async move {
                shutdown.await;
                tracing::info!("shutting down: finishing open requests");
                let _ = stop.send(true);
            })
            .await;
        if let Some(health) = health {
            let _ = health.await;
        }
        self.handles.audit.flush().await;
        tracing::info!("internal IAM stopped");
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}
