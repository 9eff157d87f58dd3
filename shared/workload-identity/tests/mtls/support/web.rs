//! An axum server on mutual TLS, and reqwest clients for it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use rustls::{ClientConfig, ServerConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use workload_identity::{MtlsAcceptor, PeerIdentity};

/// Answers with what the handler knows of its peer: SPIFFE ID, thumbprint, address.
pub fn whoami_router() -> Router {
    Router::new().route(
        "/whoami",
        get(
            |peer: PeerIdentity, ConnectInfo(remote): ConnectInfo<SocketAddr>| async move {
                format!("{}\n{}\n{}", peer.spiffe_id(), peer.x5t_s256(), remote)
            },
        ),
    )
}

pub struct WebServer {
    pub addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl WebServer {
    pub async fn start(tls: Arc<ServerConfig>) -> Self {
        Self::start_with(MtlsAcceptor::new(tls), whoami_router()).await
    }

    pub async fn start_with(acceptor: MtlsAcceptor, router: Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            acceptor
                .serve(listener, router, async {
                    let _ = stop.await;
                })
                .await;
        });
        Self {
            addr,
            shutdown,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn stop(self) {
        self.shutdown.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("serve did not return after shutdown")
            .unwrap();
    }
}

pub fn reqwest_client(tls: &ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .build()
        .unwrap()
}

/// The three lines of `/whoami`.
pub struct Whoami {
    pub spiffe_id: String,
    pub x5t_s256: String,
    pub remote: String,
}

pub async fn whoami(
    client: &reqwest::Client,
    server: &WebServer,
) -> reqwest::Result<(Whoami, http::Version)> {
    let response = client
        .get(server.url("/whoami"))
        .send()
        .await?
        .error_for_status()?;
    let version = response.version();
    let text = response.text().await?;
    let mut lines = text.lines().map(str::to_owned);
    let whoami = Whoami {
        spiffe_id: lines.next().unwrap_or_default(),
        x5t_s256: lines.next().unwrap_or_default(),
        remote: lines.next().unwrap_or_default(),
    };
    Ok((whoami, version))
}
