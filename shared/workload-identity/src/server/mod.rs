//! Mutual-TLS servers: an accept loop shared by an axum HTTP server and a tonic gRPC server, both
//! of which hand every request the verified [`PeerIdentity`](crate::PeerIdentity).

mod accept;
mod extract;
mod http;
mod incoming;
mod stream;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use rustls::ServerConfig;
use tokio::net::TcpListener;

pub use extract::NoPeerIdentity;
pub use incoming::MtlsIncoming;
pub use stream::MtlsStream;

/// How long a client may take to complete the TLS handshake before its socket is closed.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts mutual-TLS connections with a server configuration, typically from
/// [`server_config`](crate::server_config).
#[derive(Debug, Clone)]
pub struct MtlsAcceptor {
    tls: Arc<ServerConfig>,
    handshake_timeout: Duration,
}

impl MtlsAcceptor {
    pub fn new(tls: Arc<ServerConfig>) -> Self {
        Self {
            tls,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
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
