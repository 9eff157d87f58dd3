//! Mutual-TLS servers: an accept loop shared by an axum HTTP server and a tonic gRPC server, both
//! of which hand every request the verified [`PeerIdentity`](crate::PeerIdentity).

mod accept;
mod extract;
mod http;
mod incoming;
mod refusal;
mod stream;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use rustls::ServerConfig;
use tokio::net::TcpListener;

pub use extract::NoPeerIdentity;
pub use incoming::MtlsIncoming;
pub use refusal::{HandshakeRefusal, RefusalHook, RefusalReason};
pub use stream::MtlsStream;

/// How long a client may take to complete the TLS handshake before its socket is closed.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts mutual-TLS connections with a server configuration, typically from
/// [`server_config`](crate::server_config).
#[derive(Clone)]
pub struct MtlsAcceptor {
    tls: Arc<ServerConfig>,
    handshake_timeout: Duration,
    on_refusal: Option<RefusalHook>,
}

impl MtlsAcceptor {
    pub fn new(tls: Arc<ServerConfig>) -> Self {
        Self {
            tls,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            on_refusal: None,
        }
    }

    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Calls `hook` for every client refused for its identity (see [`HandshakeRefusal`]), in
    /// addition to the log line every refusal gets.
    pub fn on_refusal(mut self, hook: impl Fn(&HandshakeRefusal) + Send + Sync + 'static) -> Self {
        self.on_refusal = Some(Arc::new(hook));
        self
    }

    /// Verified connections for tonic's `Server::serve_with_incoming(_shutdown)`.
    ///
    /// Must be called within a tokio runtime: it spawns the accept loop, which stops when the
    /// returned stream is dropped.
    pub fn incoming(&self, listener: TcpListener) -> MtlsIncoming {
        MtlsIncoming::new(accept::spawn(
            listener,
            Arc::clone(&self.tls).into(),
            self.handshake_timeout,
            self.on_refusal.clone(),
        ))
    }

    /// Serves `router` over HTTP/1.1 and HTTP/2 until `shutdown` completes, then stops accepting
    /// and waits for open connections to finish their requests.
    pub async fn serve(
        &self,
        listener: TcpListener,
        router: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) {
        http::serve(self.incoming(listener), router, shutdown).await;
    }
}

impl std::fmt::Debug for MtlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtlsAcceptor")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("on_refusal", &self.on_refusal.is_some())
            .finish_non_exhaustive()
    }
}

/// [`MtlsAcceptor::serve`] with the default handshake timeout.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) {
    MtlsAcceptor::new(tls)
        .serve(listener, router, shutdown)
        .await;
}
