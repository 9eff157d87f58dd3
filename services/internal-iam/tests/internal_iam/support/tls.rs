//! mTLS clients for the IAM: a workload's own, and ones presenting whatever they are given.

use std::error::Error;
use std::io;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use workload_identity::workloads::{INTERNAL_IAM, Workload};
use workload_identity::{ClientAlpn, PeerPolicy, SpiffeServerCertVerifier, client_config};

use super::pki::TestPki;

/// The client `workload` would use: its SVID, the IAM as the only allowed server, HTTP/1.1 (so
/// a refused handshake keeps its alert type; HTTP/2's client reports IO errors as text).
pub fn workload_client(pki: &TestPki, workload: Workload) -> reqwest::Client {
    let config = client_config(
        pki.source(workload),
        PeerPolicy::only(pki.id(INTERNAL_IAM)),
        ClientAlpn::Http,
    )
    .unwrap();
    http1(&config)
}

/// A client that checks the IAM's SVID as workloads do, but presents `certificate` (or none).
pub fn presenting(
    pki: &TestPki,
    certificate: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> reqwest::Client {
    let verifier = SpiffeServerCertVerifier::new(
        pki.source(workload_identity::workloads::AGENT_B),
        PeerPolicy::only(pki.id(INTERNAL_IAM)),
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
    http1(&config)
}

fn http1(config: &ClientConfig) -> reqwest::Client {
    let mut config = config.clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .build()
        .unwrap()
}

/// The TLS alert the server sent, found in a client error's source chain.
pub fn received_alert(error: &(dyn Error + 'static)) -> rustls::AlertDescription {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(rustls::Error::AlertReceived(alert)) = error.downcast_ref::<rustls::Error>() {
            return *alert;
        }
        current = match error.downcast_ref::<io::Error>() {
            Some(io_error) => io_error
                .get_ref()
                .map(|inner| inner as &(dyn Error + 'static)),
            None => error.source(),
        };
    }
    panic!("no TLS alert in {error:?}");
}
