//! Validating the customer's access token presented for exchange (RFC 8693 `subject_token`):
//! the external IAM's signature (its JWKS, cached), issuer, the audience the exchanging
//! workload's registration names, `typ: at+jwt`, expiry and the claims an access token has.

use std::fs;
use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::Policy;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use tokens::jwks::HttpFetcher;
use tokens::validate::BuildError;
use tokens::{Algorithm, JwksCache, KeySource, SharedClock, Validator};
use wire::jose::TYP_ACCESS_TOKEN;

use crate::config::{ExternalIamConfig, MAX_TOKEN_LIFETIME};

/// The claims every customer access token has besides `iss`, `aud` and `exp` (RFC 9068 §2.2).
const REQUIRED_CLAIMS: [&str; 5] = ["sub", "jti", "iat", "client_id", "scope"];

/// Algorithms the external IAM may sign with (the design: ES256 default, EdDSA allowed).
const ALGORITHMS: [Algorithm; 2] = [Algorithm::Es256, Algorithm::EdDsa];

/// Why the subject token machinery could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SubjectSetupError {
    #[error("cannot read the external IAM's CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("cannot build the JWKS client: {0}")]
    Client(String),
    #[error("the external JWKS URI is refused: {0}")]
    JwksUri(#[from] tokens::jwks::FetchError),
    #[error("the JWKS cache configuration is invalid: {0}")]
    Cache(#[from] tokens::jwks::CacheConfigError),
}

/// Builds one validator per audience, all sharing one cache of the external IAM's keys.
#[derive(Debug, Clone)]
pub struct SubjectValidators {
    issuer: String,
    keys: KeySource,
    clock: SharedClock,
}

impl SubjectValidators {
    /// Validators for tokens of `config.issuer`, with keys from a cache of `config.jwks_uri`.
    pub fn new(config: &ExternalIamConfig, clock: SharedClock) -> Result<Self, SubjectSetupError> {
        let client = jwks_client(config)?;
        let fetcher = if config.allow_plain_http {
            HttpFetcher::new_allowing_plain_http(client, config.jwks_uri.clone())
        } else {
            HttpFetcher::new(client, config.jwks_uri.clone())?
        };
        let cache = JwksCache::builder(fetcher)
            .ttl(config.jwks_ttl)
            .min_refresh_interval(config.jwks_ttl.min(Duration::from_secs(30)))
            .clock(clock.clone())
            .build()?;
        Ok(Self {
            issuer: config.issuer.clone(),
            keys: cache.into(),
            clock,
        })
    }

    /// A validator for access tokens whose `aud` must contain `audience`.
    pub fn for_audience(&self, audience: &str) -> Result<Validator, BuildError> {
        Validator::builder()
            .issuer(self.issuer.clone())
            .audience(audience)
            .typ(TYP_ACCESS_TOKEN)
            .algorithms(&ALGORITHMS)
            .require(&REQUIRED_CLAIMS)
            // The design caps customer access tokens at 15 minutes; one valid for longer is a
            // misconfigured issuer, and its token is not vouched for.
            .max_lifetime(MAX_TOKEN_LIFETIME)
            .clock(self.clock.clone())
            .keys(self.keys.clone())
            .build()
    }
}

/// The HTTP client for the JWKS: ring-backed rustls trusting the configured CA file (none: https
/// to the external IAM fails, http to loopback works), no redirects, short timeouts.
fn jwks_client(config: &ExternalIamConfig) -> Result<reqwest::Client, SubjectSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = &config.ca_file {
        let ca_error = |reason: String| SubjectSetupError::CaFile {
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
    .map_err(|error| SubjectSetupError::Client(error.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| SubjectSetupError::Client(error.to_string()))
}
