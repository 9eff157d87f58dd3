//! The external IAM as discovered (OpenID Connect Discovery 1.0, RFC 8414), and the client the
//! app is there.
//!
//! Discovery runs once, lazily (see [`super::Oidc::provider`]): on the first request that needs
//! the IAM, retried on later requests until it succeeds, then kept for the life of the process.
//! So the web app starts, serves its public pages and answers health checks while the IAM is
//! still starting, and a failure is never cached. What the app relies on is checked here, and a
//! provider that does not offer it is refused rather than used without it:
//!
//! - `code_challenge_methods_supported` contains `S256` (PKCE, RFC 7636);
//! - `authorization_response_iss_parameter_supported` is `true` (RFC 9207): the callback can
//!   then require `iss`, which defeats mix-up attacks;
//! - `dpop_signing_alg_values_supported` contains `ES256` (RFC 9449 §5.1): the tokens will be
//!   bound to the session's key;
//! - `client_secret_basic` is among the token endpoint's authentication methods;
//! - the `issuer` is the configured one, byte for byte (checked by the library).

use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    IssuerUrl, ProviderMetadata, RedirectUrl, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokens::jwks::HttpFetcher;
use tokens::{Htu, JwksCache, SharedClock};
use url::Url;

use crate::config::IamConfig;
use crate::oidc::transport::error_chain;

/// How long the IAM's JWK Set is trusted before it is fetched again; also the longest a key the
/// IAM withdrew keeps being accepted here.
const JWKS_TTL: Duration = Duration::from_secs(300);
/// At most one refetch per this interval for unknown `kid`s.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);

/// Discovery members the library does not model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ExtraMetadata {
    /// RP-Initiated Logout 1.0 §2.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<Url>,
    /// RFC 7009 via RFC 8414 §2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<Url>,
    /// RFC 8414 §2.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// RFC 9207 §3.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9449 §5.1.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

/// The provider metadata document, with [`ExtraMetadata`].
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The `openidconnect` client with its authorization and token endpoints set.
pub type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
>;

/// Why discovery failed or the provider was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    #[error("the discovery document could not be fetched or read: {0}")]
    Fetch(String),
    #[error("the provider does not offer {0}, which this client requires")]
    Missing(&'static str),
    #[error("the provider's {name} is unusable: {reason}")]
    Endpoint { name: &'static str, reason: String },
    #[error("the provider's JWKS cache cannot be set up: {0}")]
    Keys(String),
}

/// The discovered provider: endpoints, keys, and the configured client.
#[derive(Debug)]
pub struct Provider {
    /// The issuer, exactly as discovered (and configured): what `iss` must equal.
    pub issuer: IssuerUrl,
    pub client: Client,
    /// The token endpoint as a DPoP `htu`.
    pub token_endpoint: Htu,
    pub end_session_endpoint: Option<Url>,
    pub revocation_endpoint: Option<Url>,
    /// The IAM's signing keys, for ID tokens.
    pub keys: JwksCache,
}

/// Fetches and checks the metadata at `config.issuer`, and builds the client.
pub async fn discover(
    http: &reqwest::Client,
    config: &IamConfig,
    clock: SharedClock,
) -> Result<Provider, DiscoveryError> {
    let issuer = IssuerUrl::new(config.issuer.as_str().to_owned())
        .map_err(|error| DiscoveryError::Fetch(error.to_string()))?;
    let metadata = Metadata::discover_async(issuer.clone(), http)
        .await
        .map_err(|error| DiscoveryError::Fetch(error_chain(&error)))?;
    check(&metadata)?;

    let token_url = metadata
        .token_endpoint()
        .cloned()
        .ok_or(DiscoveryError::Missing("a token endpoint"))?;
    let token_endpoint = endpoint_htu(&token_url, config.allow_plain_http)?;
    let jwks_uri = metadata.jwks_uri().url().clone();
    let fetcher = if config.allow_plain_http {
        HttpFetcher::new_allowing_plain_http(http.clone(), jwks_uri)
    } else {
        HttpFetcher::new(http.clone(), jwks_uri)
            .map_err(|error| DiscoveryError::Keys(error.to_string()))?
    };
    let keys = JwksCache::builder(fetcher)
        .ttl(JWKS_TTL)
        .min_refresh_interval(JWKS_MIN_REFRESH)
        .clock(clock)
        .build()
        .map_err(|error| DiscoveryError::Keys(error.to_string()))?;
    let redirect = RedirectUrl::from_url(config.redirect_uri.clone());
    // The library's own copy of the JWK Set stays empty: ID tokens are verified with keys from
    // the cache above (see `super::id_token`).
    let client = CoreClient::new(
        ClientId::new(config.client_id.clone()),
        metadata.issuer().clone(),
        CoreJsonWebKeySet::new(Vec::new()),
    )
    .set_client_secret(ClientSecret::new(config.client_secret.expose().to_owned()))
    .set_auth_type(AuthType::BasicAuth)
    .set_auth_uri(metadata.authorization_endpoint().clone())
    .set_token_uri(token_url)
    .set_redirect_uri(redirect);
    let extra = metadata.additional_metadata();
    Ok(Provider {
        issuer: metadata.issuer().clone(),
        client,
        token_endpoint,
        end_session_endpoint: extra.end_session_endpoint.clone(),
        revocation_endpoint: extra.revocation_endpoint.clone(),
        keys,
    })
}

fn check(metadata: &Metadata) -> Result<(), DiscoveryError> {
    let extra = metadata.additional_metadata();
    if !extra
        .code_challenge_methods_supported
        .iter()
        .any(|m| m == "S256")
    {
        return Err(DiscoveryError::Missing("PKCE with S256"));
    }
    if !extra.authorization_response_iss_parameter_supported {
        return Err(DiscoveryError::Missing(
            "the `iss` authorization response parameter (RFC 9207)",
        ));
    }
    if !extra
        .dpop_signing_alg_values_supported
        .iter()
        .any(|a| a == "ES256")
    {
        return Err(DiscoveryError::Missing("DPoP with ES256"));
    }
    // RFC 8414 §2: absent means `client_secret_basic` only.
    if let Some(methods) = metadata.token_endpoint_auth_methods_supported()
        && !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
    {
        return Err(DiscoveryError::Missing("client_secret_basic"));
    }
    Ok(())
}

/// The token endpoint must be https (or http where the issuer itself may be): it receives the
/// client secret and the codes.
fn endpoint_htu(url: &TokenUrl, allow_plain_http: bool) -> Result<Htu, DiscoveryError> {
    let parsed = url.url();
    let loopback = match parsed.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if parsed.scheme() != "https" && !(loopback || allow_plain_http) {
        return Err(DiscoveryError::Endpoint {
            name: "token endpoint",
            reason: "not https".to_owned(),
        });
    }
    Htu::parse(url.as_str()).map_err(|error| DiscoveryError::Endpoint {
        name: "token endpoint",
        reason: error.to_string(),
    })
}
