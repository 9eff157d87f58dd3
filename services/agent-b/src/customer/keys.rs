//! The external IAM's signing keys: its JWK Set, fetched over HTTP(S) and cached.
//!
//! Built once at start. The cache refetches on its TTL and on an unknown `kid` (rate limited),
//! never otherwise on the request path. The URI must be https, or http to a loopback address
//! (the local demo); plain http to anything else needs the explicit demo-only switch.

use std::fs;
use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::Policy;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use tokens::jwks::{CacheConfigError, FetchError, HttpFetcher};
use tokens::{JwksCache, SharedClock};

use crate::config::CustomerTokenArgs;

/// Why the key cache could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CustomerKeysError {
    #[error("cannot read the external IAM's CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("cannot build the JWKS client: {0}")]
    Client(String),
    #[error("the external JWKS URI is refused: {0}")]
    Uri(#[from] FetchError),
    #[error("the JWKS cache settings are not acceptable: {0}")]
    Cache(#[from] CacheConfigError),
}

/// A cache of the external IAM's JWK Set.
pub fn external_jwks(
    args: &CustomerTokenArgs,
    clock: SharedClock,
) -> Result<JwksCache, CustomerKeysError> {
    let client = client(args)?;
    let fetcher = if args.allow_plain_http {
        HttpFetcher::new_allowing_plain_http(client, args.jwks_uri.clone())
    } else {
        HttpFetcher::new(client, args.jwks_uri.clone())?
    };
    let ttl = args.jwks_ttl();
    Ok(JwksCache::builder(fetcher)
        .ttl(ttl)
        .min_refresh_interval(ttl.min(Duration::from_secs(30)))
        .clock(clock)
        .build()?)
}

/// ring-backed rustls trusting only the configured CA file (none: https fails, http to loopback
/// works), no redirects (keys served from elsewhere are not the issuer's), short timeouts.
fn client(args: &CustomerTokenArgs) -> Result<reqwest::Client, CustomerKeysError> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = &args.ca_file {
        let ca_error = |reason: String| CustomerKeysError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let pem = fs::read(path).map_err(|error| ca_error(error.to_string()))?;
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
    .map_err(|error| CustomerKeysError::Client(error.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(Policy::none())
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|error| CustomerKeysError::Client(error.to_string()))
}
