//! The internal IAM's signing keys: its JWK Set, fetched over mutual TLS with this workload's
//! own SVID and cached.
//!
//! The IAM serves workloads only over mTLS, and the fetch authenticates the IAM in turn: the
//! client accepts exactly the IAM's SPIFFE ID, so a server that merely holds some certificate
//! cannot hand this workload keys. Built once at start; the cache then refetches on its TTL, on
//! an unknown `kid` (rate limited) and never on the hot path otherwise.

use std::sync::Arc;
use std::time::Duration;

use tokens::jwks::{CacheConfigError, FetchError};
use tokens::{JwksCache, SharedClock};
use url::Url;
use workload_identity::{ClientAlpn, IdentitySource, PeerPolicy, SpiffeId};

/// Why the key cache could not be built.
#[derive(Debug, thiserror::Error)]
pub enum IamKeysError {
    #[error("cannot build the TLS configuration for the IAM: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot build the HTTP client for the IAM: {0}")]
    Client(#[from] reqwest::Error),
    #[error("the IAM's JWKS URI is not acceptable: {0}")]
    Uri(#[from] FetchError),
    #[error("the JWKS cache settings are not acceptable: {0}")]
    Cache(#[from] CacheConfigError),
}

/// A cache of the IAM's JWK Set at `jwks_uri`, fetched as `identity`, accepting only `iam` as
/// the server.
pub fn iam_jwks(
    identity: Arc<dyn IdentitySource>,
    iam: SpiffeId,
    jwks_uri: Url,
    ttl: Duration,
    clock: SharedClock,
) -> Result<JwksCache, IamKeysError> {
    let tls = workload_identity::client_config(identity, PeerPolicy::only(iam), ClientAlpn::Http)?;
    let client = reqwest::Client::builder()
        .use_preconfigured_tls((*tls).clone())
        // The JWKS URI is configuration; keys served from anywhere else are not the IAM's.
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cache = JwksCache::http(client, jwks_uri)?
        .ttl(ttl)
        .min_refresh_interval(ttl.min(Duration::from_secs(30)))
        .clock(clock)
        .build()?;
    Ok(cache)
}

/// Fetches the IAM's JWK Set in the background, without holding up the start: the IAM may
/// start after this workload, and the first token with an unknown `kid` fetches anyway. Call
/// within a Tokio runtime.
pub fn warm_up(keys: &JwksCache) {
    let warm = keys.clone();
    tokio::spawn(async move {
        if let Err(error) = warm.refresh().await {
            tracing::warn!(%error, "the IAM's JWK Set is not available yet; it is fetched on first use");
        }
    });
}
