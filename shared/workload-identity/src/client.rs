//! Dials mutual-TLS connections for tonic channels.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tonic::transport::{Channel, Endpoint};

use crate::{ClientAlpn, IdentitySource, PeerPolicy, SpiffeId};

/// How long dialling a gRPC peer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Pings keep an idle connection known-good, so a call does not find it dead.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A tonic channel to `uri` over mutual TLS, presenting `identity` and accepting only `server`.
/// Each call may take `call_timeout`, connection included. Nothing is dialled until the first
/// call (so it must be made inside a tokio runtime); build it once and clone it.
pub fn grpc_channel_lazy(
    identity: Arc<dyn IdentitySource>,
    server: SpiffeId,
    uri: Uri,
    call_timeout: Duration,
) -> Result<Channel, rustls::Error> {
    let tls = crate::client_config(identity, PeerPolicy::only(server), ClientAlpn::Grpc)?;
    Ok(Endpoint::from(uri)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(call_timeout)
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect_with_connector_lazy(MtlsConnector::new(tls)))
}

/// A connector for `tonic::transport::Endpoint::connect_with_connector`: TCP to the endpoint's
/// host and port, then TLS with a configuration from
/// [`client_config`](crate::client_config) (use [`ClientAlpn::Grpc`](crate::ClientAlpn::Grpc)).
///
/// Build the channel once and clone it: it multiplexes calls over one HTTP/2 connection and
/// redials through this connector only when that connection is lost.
#[derive(Clone)]
pub struct MtlsConnector {
    tls: TlsConnector,
}

impl MtlsConnector {
    pub fn new(tls: Arc<ClientConfig>) -> Self {
        Self {
            tls: TlsConnector::from(tls),
        }
    }
}

impl fmt::Debug for MtlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtlsConnector").finish_non_exhaustive()
    }
}

type Connection = TokioIo<TlsStream<TcpStream>>;

impl tower::Service<Uri> for MtlsConnector {
    type Response = Connection;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Connection>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let tls = self.tls.clone();
        Box::pin(async move {
            let (host, port) = host_and_port(&uri)?;
            // Only sent as SNI: the server is authenticated by its SPIFFE ID, not this name.
            let server_name = ServerName::try_from(host.clone())
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            Ok(TokioIo::new(tls.connect(server_name, tcp).await?))
        })
    }
}

fn host_and_port(uri: &Uri) -> io::Result<(String, u16)> {
    let host = uri
        .host()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "endpoint URI has no host"))?;
    // `Uri::host` keeps the brackets of an IPv6 literal.
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("http") {
            80
        } else {
            443
        });
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_from_endpoint_uris() {
        let parse = |uri: &str| host_and_port(&uri.parse().unwrap()).unwrap();
        assert_eq!(parse("https://agent-a:7443"), ("agent-a".to_owned(), 7443));
        assert_eq!(parse("https://127.0.0.1:1"), ("127.0.0.1".to_owned(), 1));
        assert_eq!(parse("https://[::1]:8443"), ("::1".to_owned(), 8443));
        assert_eq!(parse("https://agent-a"), ("agent-a".to_owned(), 443));
        assert_eq!(parse("http://agent-a"), ("agent-a".to_owned(), 80));
        assert!(host_and_port(&"/no/host".parse().unwrap()).is_err());
    }
}
