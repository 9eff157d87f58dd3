//! The HTTP client for the external IAM: discovery, JWKS, token and revocation requests.

use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::Policy;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use crate::config::IamConfig;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum IamClientError {
    #[error("cannot use the IAM CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("cannot build the HTTP client for the IAM: {0}")]
    Client(String),
}

/// ring-backed rustls trusting the configured CA file only (none: https to the IAM fails, plain
/// http works where the configuration allowed it), no redirects (every IAM URL comes from
/// configuration or discovery, and a response from elsewhere is not the IAM's), short timeouts.
/// Built once; its connections are kept alive and reused.
pub fn client(config: &IamConfig) -> Result<reqwest::Client, IamClientError> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = &config.ca_file {
        let ca_error = |reason: String| IamClientError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|error| ca_error(error.to_string()))?;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            let certificate = certificate.map_err(|error| ca_error(error.to_string()))?;
            roots
                .add(certificate)
                .map_err(|error| ca_error(error.to_string()))?;
        }
        if roots.is_empty() {
            return Err(ca_error("it holds no certificate".to_owned()));
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| IamClientError::Client(error.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(Policy::none())
        .connect_timeout(Duration::from_secs(5).min(config.timeout))
        .timeout(config.timeout)
        .build()
        .map_err(|error| IamClientError::Client(error.to_string()))
}
