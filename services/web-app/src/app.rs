//! Building the web app from its configuration, and running it until told to stop.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use storage::{Database, StorageError};
use tokens::{SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use workload_identity::{DEFAULT_RELOAD_INTERVAL, FileSource, IdentitySource as _, LoadError};

use crate::MIGRATOR;
use crate::agent_b::{AgentB, AgentBSetupError};
use crate::config::{Config, ConfigError};
use crate::http::pages;
use crate::oidc::Oidc;
use crate::oidc::iam_http::{self, IamClientError};
use crate::session::{CookiePolicy, KeyCache, RefreshLocks};
use crate::state::{AppState, Shared};

/// Why the web app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot load this workload's identity: {0}")]
    Identity(#[from] LoadError),
    #[error(
        "this workload's SVID names {found}, outside the configured trust domain {trust_domain}"
    )]
    ForeignIdentity { found: String, trust_domain: String },
    #[error(transparent)]
    IamClient(#[from] IamClientError),
    #[error(transparent)]
    AgentB(#[from] AgentBSetupError),
    #[error("cannot build the Content-Security-Policy for the issuer's origin")]
    Csp,
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

/// A built web app, bound to its address, not yet serving.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    state: AppState,
    /// Keeps the SVID files reloaded while the app runs.
    _reloader: JoinHandle<()>,
}

impl App {
    /// Builds the app on the system clock, listening on `config.listen`.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        Self::build_on(listener, config, Arc::new(SystemClock)).await
    }

    /// Builds the app on a socket bound already (tests bind port 0 first, so the redirect URI
    /// can name the port), with `clock` for token times, sessions and DPoP proofs.
    /// Certificate validity is always judged by the real time.
    pub async fn build_on(
        listener: TcpListener,
        config: Config,
        clock: SharedClock,
    ) -> Result<Self, StartError> {
        config.validate()?;
        let db = Database::connect(config.database_url.expose()).await?;
        db.migrate(&MIGRATOR).await?;

        let identity = FileSource::load(config.identity.clone())?;
        let own_id = identity.current().spiffe_id().clone();
        if !own_id.is_member_of(&config.trust_domain) {
            return Err(StartError::ForeignIdentity {
                found: own_id.to_string(),
                trust_domain: config.trust_domain.to_string(),
            });
        }
        let reloader = identity.spawn_reloader(DEFAULT_RELOAD_INTERVAL);
        let agent_b = AgentB::new(identity, &config.agent_b)?;

        let iam_http = iam_http::client(&config.iam)?;
        let iam_origin = config.iam.issuer.url().origin().ascii_serialization();
        let csp = pages::content_security_policy(&iam_origin).ok_or(StartError::Csp)?;
        let oidc = Oidc::new(iam_http, config.iam.clone(), clock.clone());

        let state = Arc::new(Shared {
            cookies: CookiePolicy::new(config.public_url.is_https()),
            config,
            clock,
            db,
            oidc,
            agent_b,
            refresh_locks: RefreshLocks::default(),
            dpop_keys: KeyCache::default(),
            rng: ring::rand::SystemRandom::new(),
            csp,
        });
        // Discover the IAM now if it is up, without holding up the start: the first login
        // discovers it otherwise (see `oidc::provider`).
        let warm = state.clone();
        tokio::spawn(async move {
            if let Err(error) = warm.oidc.provider().await {
                tracing::warn!(%error, "the external IAM is not available yet; discovery is retried on first use");
            }
        });
        tracing::info!(
            spiffe_id = %own_id,
            public_url = %state.config.public_url.origin(),
            issuer = state.config.iam.issuer.as_str(),
            agent_b = %state.config.agent_b.chat_url,
            agent_b_spiffe_id = %state.config.agent_b.spiffe_id,
            "web app ready"
        );
        Ok(Self {
            listener,
            state,
            _reloader: reloader,
        })
    }

    /// The address actually bound (tests listen on port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (tests read sessions through it).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let addr = self.local_addr()?;
        tracing::info!(%addr, "web app listening");
        let router = crate::http::router(self.state.clone());
        // The public port: slow clients are timed out (headers, then each request).
        let served = http_server::serve(
            self.listener,
            router,
            http_server::Limits::default(),
            shutdown,
        )
        .await;
        self.state.db.close().await;
        tracing::info!("web app stopped");
        served
    }
}
