//! Building the agent from its configuration, and running it until told to stop.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use telemetry::SystemRandom;
use tokens::{SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;
use workload_identity::{
    DEFAULT_RELOAD_INTERVAL, FileSource, IdentitySource as _, LoadError, MtlsAcceptor, PeerPolicy,
};

use crate::agent_a::AgentA;
use crate::caller::AllowedCallers;
use crate::chat::{ChatState, chat};
use crate::config::Config;
use crate::customer::{CustomerAuth, CustomerAuthSetupError, CustomerKeysError, external_jwks};
use crate::health;
use crate::iam::{IamClient, IamSetupError};

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot load this workload's identity: {0}")]
    Identity(#[from] LoadError),
    #[error("cannot build a TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    CustomerKeys(#[from] CustomerKeysError),
    #[error(transparent)]
    CustomerAuth(#[from] CustomerAuthSetupError),
    #[error(transparent)]
    Iam(#[from] IamSetupError),
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
    router: Router,
    chat_url: Url,
    /// Keeps the identity files reloaded while the agent runs.
    _identity: Arc<FileSource>,
    _reloader: JoinHandle<()>,
}

impl App {
    /// Builds the agent on the system clock.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds the agent with `clock` for token times, DPoP proof windows and the service token
    /// cache (tests pass a manual clock; certificate validity is always judged by the real time).
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<Self, StartError> {
        config.check().map_err(StartError::Config)?;
        let trust_domain = &config.trust_domain;

        let identity = FileSource::load(config.identity.files())?;
        let own_id = identity.current().spiffe_id().clone();
        if !own_id.is_member_of(trust_domain) {
            return Err(StartError::Config(format!(
                "this agent's SVID names {own_id}, outside the configured trust domain {trust_domain}"
            )));
        }
        let reloader = identity.spawn_reloader(DEFAULT_RELOAD_INTERVAL);
        // Authentication at TLS admits the trust domain's workloads; the allow-list of callers
        // is applied per request, so a refused workload gets a 403 that names it instead of a
        // bare handshake failure.
        let tls = workload_identity::server_config(
            identity.clone(),
            PeerPolicy::TrustDomainMember(trust_domain.clone()),
        )?;

        let listener = bind(config.listen).await?;
        let addr = local_addr(&listener);
        let chat_url = chat_url(config.public_url.as_ref(), addr)?;

        let keys = external_jwks(&config.customer, clock.clone())?;
        // Warm the cache without holding up the start: the external IAM may start later, and
        // the first token fetches anyway.
        let warm = keys.clone();
        tokio::spawn(async move {
            if let Err(error) = warm.refresh().await {
                tracing::warn!(%error, "the external IAM's JWK Set is not available yet; it is fetched on first use");
            }
        });
        let customers = CustomerAuth::new(
            &config.customer.issuer,
            &config.customer.resource,
            chat_url.as_str(),
            keys,
            clock.clone(),
        )?;
        let iam_id = config.iam.spiffe_id(trust_domain);
        let iam = IamClient::new(
            identity.clone(),
            iam_id.clone(),
            config.iam.token_url.clone(),
            clock.clone(),
        )?;
        let agent_a_id = config.agent_a.spiffe_id(trust_domain);
        let agent_a = AgentA::connect_lazy(
            identity.clone(),
            agent_a_id.clone(),
            config.agent_a.url.clone(),
        )?;
        let state = Arc::new(ChatState {
            customers,
            iam,
            agent_a,
            rng: SystemRandom::new(),
            clock,
        });
        let callers = config.allowed_callers();
        let router = Router::new()
            .route(wire::chat::PATH, post(chat))
            .layer(DefaultBodyLimit::max(wire::chat::MAX_BODY_BYTES))
            .with_state(state)
            .layer(axum::middleware::from_fn_with_state(
                AllowedCallers::new(PeerPolicy::AllowList(callers.clone())),
                AllowedCallers::authorize,
            ));

        let health_listener = match config.health_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        tracing::info!(
            spiffe_id = %own_id,
            listen = %addr,
            chat_url = %chat_url,
            allowed_callers = ?callers.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
            internal_iam = %config.iam.token_url,
            internal_iam_spiffe_id = %iam_id,
            agent_a = %config.agent_a.url,
            agent_a_spiffe_id = %agent_a_id,
            "Agent B ready"
        );
        Ok(Self {
            listener,
            health_listener,
            acceptor: MtlsAcceptor::new(tls),
            router,
            chat_url,
            _identity: identity,
            _reloader: reloader,
        })
    }

    /// The address of the HTTPS listener (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        local_addr(&self.listener)
    }

    /// The address of the plain health listener, if configured.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health_listener.as_ref().map(local_addr)
    }

    /// The chat endpoint's public URL: the `htu` every DPoP proof must carry.
    pub fn chat_url(&self) -> &Url {
        &self.chat_url
    }

    /// Serves until `shutdown` completes, then stops accepting and lets open requests finish.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send) {
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
        self.acceptor
            .serve(self.listener, self.router, async move {
                shutdown.await;
                tracing::info!("shutting down: finishing open requests");
            })
            .await;
        // The health listener answers until the requests have drained.
        let _ = stop.send(true);
        if let Some(health) = health {
            let _ = health.await;
        }
        tracing::info!("Agent B stopped");
    }
}

/// `<public url>/v1/chat`, the public URL defaulting to `https://localhost:<port>`.
fn chat_url(public_url: Option<&Url>, addr: SocketAddr) -> Result<Url, StartError> {
    let origin = match public_url {
        Some(url) => url.clone(),
        None => Url::parse(&format!("https://localhost:{}/", addr.port()))
            .map_err(|error| StartError::Config(format!("no default public URL: {error}")))?,
    };
    origin
        .join(wire::chat::PATH)
        .map_err(|error| StartError::Config(format!("no chat URL under {origin}: {error}")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chat_url_is_under_the_public_origin() {
        let addr: SocketAddr = "127.0.0.1:7445".parse().unwrap();
        assert_eq!(
            chat_url(None, addr).unwrap().as_str(),
            "https://localhost:7445/v1/chat"
        );
        let public = Url::parse("https://agent-b.namespace-b.svc:443").unwrap();
        assert_eq!(
            chat_url(Some(&public), addr).unwrap().as_str(),
            "https://agent-b.namespace-b.svc/v1/chat"
        );
    }
}
