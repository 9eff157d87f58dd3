//! Building the agent from its configuration, and running it until told to stop.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mesh::{IamKeysError, iam_jwks};
use storage::{Database, StorageError};
use tokens::{SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::Server;
use wire::grpc::agent_a::v1::agent_a_server::AgentAServer;
use workload_identity::{
    DEFAULT_RELOAD_INTERVAL, FileSource, IdentitySource as _, LoadError, MtlsAcceptor, PeerPolicy,
};

use crate::MIGRATOR;
use crate::audit::AuditLog;
use crate::caller::ServiceTokenValidator;
use crate::config::Config;
use crate::health;
use crate::service::AccountDataService;
use crate::service_a2::ServiceA2;
use crate::user_context::UserContextValidator;

/// A request is an intent and the customer's chat message; the message is bounded here.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Metadata carries two tokens (about a kilobyte each) and correlation ids.
const MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;
/// A call that takes longer than this is cut off with `DEADLINE_EXCEEDED`; the call to Service
/// A2 has a shorter timeout of its own.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Pings on idle connections find dead peers; Agent B keeps its connection open.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot load this workload's identity: {0}")]
    Identity(#[from] LoadError),
    #[error("cannot build a TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    IamKeys(#[from] IamKeysError),
    #[error("cannot build a token validator: {0}")]
    Validator(#[from] tokens::validate::BuildError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

/// A built agent, bound to its addresses, not yet serving.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    acceptor: MtlsAcceptor,
    service: AccountDataService,
    audit: AuditLog,
    db: Database,
    /// Keeps the identity files reloaded while the agent runs.
    _identity: Arc<FileSource>,
    _reloader: JoinHandle<()>,
}

impl App {
    /// Builds the agent on the system clock.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds the agent with `clock` for token times and audit rows (tests pass a manual clock;
    /// certificate validity is always judged by the real time).
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<Self, StartError> {
        config.check().map_err(StartError::Config)?;
        let trust_domain = &config.trust_domain;

        let db = Database::connect(config.database_url.expose()).await?;
        db.migrate(&MIGRATOR).await?;
        // The writer ends by itself once the last handle is dropped.
        let (audit, _writer) = AuditLog::start(db.clone());

        let identity = FileSource::load(config.identity.files())?;
        let own_id = identity.current().spiffe_id().clone();
        if !own_id.is_member_of(trust_domain) {
            return Err(StartError::Config(format!(
                "this agent's SVID names {own_id}, outside the configured trust domain {trust_domain}"
            )));
        }
        let reloader = identity.spawn_reloader(DEFAULT_RELOAD_INTERVAL);
        // Authentication at TLS (any workload of the trust domain); authorization per call by
        // the certificate-bound service token, which the IAM issues only to registered callers.
        let tls = workload_identity::server_config(
            identity.clone(),
            PeerPolicy::TrustDomainMember(trust_domain.clone()),
        )?;

        let keys = iam_jwks(
            identity.clone(),
            config.iam.spiffe_id(trust_domain),
            config.iam.jwks_uri.clone(),
            config.iam.jwks_ttl(),
            clock.clone(),
        )?;
        mesh::warm_up(&keys);
        let callers = ServiceTokenValidator::new(&config.iam.issuer, keys.clone(), clock.clone())?;
        let user_context =
            UserContextValidator::new(&config.iam.issuer, trust_domain, keys, clock.clone())?;
        let service_a2_id = config.service_a2.spiffe_id(trust_domain);
        let service_a2 = ServiceA2::connect_lazy(
            identity.clone(),
            service_a2_id.clone(),
            config.service_a2.url.clone(),
        )?;
        let service =
            AccountDataService::new(callers, user_context, service_a2, audit.clone(), clock);

        let listener = bind(config.listen).await?;
        let health_listener = match config.health_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        tracing::info!(
            spiffe_id = %own_id,
            listen = %local_addr(&listener),
            service_a2 = %config.service_a2.url,
            service_a2_spiffe_id = %service_a2_id,
            "Agent A ready"
        );
        Ok(Self {
            listener,
            health_listener,
            acceptor: MtlsAcceptor::new(tls),
            service,
            audit,
            db,
            _identity: identity,
            _reloader: reloader,
        })
    }

    /// The address of the gRPC listener (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        local_addr(&self.listener)
    }

    /// The address of the plain health listener, if configured.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health_listener.as_ref().map(local_addr)
    }

    /// The database (the audit trail), for tools and tests.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The audit log, to flush it before reading the trail.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Serves until `shutdown` completes, then stops accepting, lets open calls finish and
    /// writes every queued audit row.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), tonic::transport::Error> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let health = self.health_listener.map(|listener| {
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let serving =
                    axum::serve(listener, health::router()).with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    });
                if let Err(error) = serving.await {
                    tracing::warn!(%error, "the health listener stopped");
                }
            })
        });
        let service = AgentAServer::new(self.service).max_decoding_message_size(MAX_REQUEST_BYTES);
        let served = Server::builder()
            .timeout(REQUEST_TIMEOUT)
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
            .add_service(service)
            .serve_with_incoming_shutdown(self.acceptor.incoming(self.listener), async move {
                shutdown.await;
                tracing::info!("shutting down: finishing open calls");
            })
            .await;
        // The health listener answers until the calls have drained, however serving ended.
        let _ = stop.send(true);
        if let Some(health) = health {
            let _ = health.await;
        }
        // Every call has finished, so every row is queued: write them before closing.
        self.audit.flush().await;
        self.db.close().await;
        tracing::info!("Agent A stopped");
        served
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}
