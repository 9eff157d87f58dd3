//! Plain tokio-rustls endpoints, for handshakes the crate's own helpers would not attempt (a
//! client presenting an invalid SVID) and for observing each side's error separately.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};
use workload_identity::workloads::{self, Workload};
use workload_identity::{PeerPolicy, SpiffeServerCertVerifier};

use super::pki::TestPki;

/// A client that trusts the test PKI and accepts only `server`, but presents whatever
/// certificate it is given (`None`: no certificate at all).
pub fn client_presenting(
    pki: &TestPki,
    server: Workload,
    certificate: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Arc<ClientConfig> {
    let verifier = SpiffeServerCertVerifier::new(
        pki.source(workloads::AGENT_B),
        PeerPolicy::only(pki.id(server)),
    );
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
    let config = match certificate {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// Accepts one connection and completes (or fails) the server side of its handshake.
pub async fn accept_one(
    config: Arc<ServerConfig>,
) -> (
    SocketAddr,
    JoinHandle<io::Result<server::TlsStream<TcpStream>>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut stream = TlsAcceptor::from(config).accept(tcp).await?;
        // Answer one byte, so the client's round trip completes on success.
        let mut byte = [0; 1];
        stream.read_exact(&mut byte).await?;
        stream.write_all(&byte).await?;
        stream.flush().await?;
        Ok(stream)
    });
    (addr, task)
}

/// Connects and makes one round trip. In TLS 1.3 the client finishes its handshake before the
/// server has checked the client certificate, so a refusal by the server only shows on the
/// first read.
pub async fn round_trip(
    config: Arc<ClientConfig>,
    addr: SocketAddr,
) -> io::Result<client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::IpAddress(addr.ip().into());
    let mut stream = TlsConnector::from(config).connect(name, tcp).await?;
    stream.write_all(b"?").await?;
    stream.flush().await?;
    let mut byte = [0; 1];
    stream.read_exact(&mut byte).await?;
    Ok(stream)
}

/// Completes the client side of a handshake (the server's certificate has been verified).
pub async fn handshake(
    config: Arc<ClientConfig>,
    addr: SocketAddr,
) -> io::Result<client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::IpAddress(addr.ip().into());
    TlsConnector::from(config).connect(name, tcp).await
}

/// The server's leaf certificate of an established client connection.
pub fn server_leaf(stream: &client::TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}
