//! Mutual-TLS configurations: TLS 1.3 only, SVIDs on both sides, peers authorized by SPIFFE ID.
//!
//! Build each configuration once at startup and share the `Arc`: the verifiers and resolvers
//! read the identity source on every handshake, so rotation needs no rebuild.

mod resolver;
mod verifier;

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::server::NoServerSessionStorage;
use rustls::{ClientConfig, ServerConfig};

pub use verifier::{SpiffeClientCertVerifier, SpiffeServerCertVerifier};

use crate::crypto;
use crate::identity::IdentitySource;
use crate::policy::PeerPolicy;
use resolver::SvidResolver;

/// The application protocols a client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAlpn {
    /// `h2` only: gRPC runs on HTTP/2.
    Grpc,
    /// `h2`, then `http/1.1`: HTTP clients such as reqwest.
    Http,
}

impl ClientAlpn {
    fn protocols(self) -> Vec<Vec<u8>> {
        match self {
            Self::Grpc => vec![b"h2".to_vec()],
            Self::Http => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        }
    }
}

/// A server configuration that presents the source's SVID, requires a client SVID of the same
/// trust domain, and accepts only clients `policy` allows. Offers ALPN `h2` and `http/1.1`.
pub fn server_config(
    source: Arc<dyn IdentitySource>,
    policy: PeerPolicy,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let verifier = Arc::new(SpiffeClientCertVerifier::new(Arc::clone(&source), policy));
    let mut config = ServerConfig::builder_with_provider(crypto::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SvidResolver(source)));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // No session resumption: a resumed session skips certificate verification, so a peer whose
    // SVID has since expired, or whose CA left the bundle, would be let back in. Connections are
    // long-lived and reused, so full handshakes cost little.
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// A client configuration that presents the source's SVID and accepts only servers whose
/// SPIFFE ID `policy` allows. The server name the caller dials is not checked against the
/// certificate: the SPIFFE ID is.
pub fn client_config(
    source: Arc<dyn IdentitySource>,
    policy: PeerPolicy,
    alpn: ClientAlpn,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let verifier = Arc::new(SpiffeServerCertVerifier::new(Arc::clone(&source), policy));
    // rustls calls every custom verifier "dangerous" because it cannot vouch for it. This one
    // replaces hostname verification with SPIFFE ID authorization; it verifies the chain with
    // the same validator rustls uses.
    let mut config = ClientConfig::builder_with_provider(crypto::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(SvidResolver(source)));
    config.alpn_protocols = alpn.protocols();
    // See `server_config`: every connection verifies the server afresh.
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}
