//! Fetching an issuer's JWK Set document.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap};
use url::{Host, Url};

/// The largest JWK Set document accepted. A set of a few dozen keys is a few KiB; the bound keeps
/// a misbehaving endpoint from making a validator buffer an unbounded body.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// A fetched JWK Set document, not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedJwks {
    pub body: Vec<u8>,
    /// How long the server says the document may be cached (`Cache-Control: max-age`, or zero
    /// for `no-cache` / `no-store`). The cache decides what to do with it.
    pub max_age: Option<Duration>,
}

/// Why a JWK Set could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the JWKS URI {0} is not https (plain http is allowed to loopback addresses only)")]
    InsecureUri(String),
    #[error("the JWKS request failed: {0}")]
    Transport(String),
    #[error("the JWKS endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the JWKS endpoint redirected to another URI, and redirects are not followed")]
    Redirected,
    #[error("the JWKS document is over {0} bytes")]
    TooLarge(usize),
    #[error("the JWKS request timed out after {0:?}")]
    Timeout(Duration),
    #[error("the JWKS document was refused: {0}")]
    InvalidDocument(#[from] crate::jwk::JwksError),
}

/// The future a [`JwksFetcher`] returns.
pub type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<FetchedJwks, FetchError>> + Send + 'a>>;

/// Something that can fetch a JWK Set document: HTTP(S) in production ([`HttpFetcher`]). A trait
/// so the cache's behaviour (TTL, rate limit, single flight) does not depend on the transport.
pub trait JwksFetcher: Send + Sync + fmt::Debug + 'static {
    fn fetch(&self) -> FetchFuture<'_>;
}

/// Fetches a `jwks_uri` with a caller-supplied [`reqwest::Client`], so the internal IAM's JWKS
/// can be fetched over the workload's mTLS-configured client and the external IAM's over a
/// client trusting its CA.
///
/// Redirects are refused: the `jwks_uri` is configuration, and a JWKS served from somewhere else
/// is keys from somewhere else. Give the client `redirect::Policy::none()` so a redirect is not
/// even followed; if it is, the final URI differs and the response is refused anyway.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    uri: Url,
}

impl HttpFetcher {
    /// A fetcher for `uri`, which must be `https`, or `http` to a loopback address (a local
    /// development issuer). Keys fetched over plain HTTP from anywhere else could be replaced by
    /// anyone on the path, and with them every token.
    pub fn new(client: reqwest::Client, uri: Url) -> Result<Self, FetchError> {
        if !is_secure(&uri) {
            return Err(FetchError::InsecureUri(uri.to_string()));
        }
        Ok(Self { client, uri })
    }

    /// A fetcher that allows plain `http` to any host: for a demo where every program runs on
    /// one private network (docker compose). Never for production.
    pub fn new_allowing_plain_http(client: reqwest::Client, uri: Url) -> Self {
        Self { client, uri }
    }

    async fn get(&self) -> Result<FetchedJwks, FetchError> {
        let mut response = self
            .client
            .get(self.uri.clone())
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .send()
            .await
            .map_err(|e| FetchError::Transport(error_chain(&e)))?;
        if response.url() != &self.uri {
            return Err(FetchError::Redirected);
        }
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(FetchError::TooLarge(MAX_DOCUMENT_BYTES));
        }
        let max_age = max_age(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Transport(error_chain(&e)))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge(MAX_DOCUMENT_BYTES));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchedJwks { body, max_age })
    }
}

impl JwksFetcher for HttpFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.get())
    }
}

fn is_secure(uri: &Url) -> bool {
    match uri.scheme() {
        "https" => true,
        "http" => is_loopback(uri),
        _ => false,
    }
}

fn is_loopback(uri: &Url) -> bool {
    match uri.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// reqwest's top-level message is often just "error sending request"; the cause is below.
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The freshness lifetime the response allows (RFC 9111 §5.2.2): `max-age`, or zero for
/// `no-cache` / `no-store`. Several `max-age` values: the smallest wins. Unparseable
/// directives are ignored.
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut seconds: Option<u64> = None;
    let directives = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    for directive in directives {
        let found = if directive.eq_ignore_ascii_case("no-cache")
            || directive.eq_ignore_ascii_case("no-store")
        {
            Some(0)
        } else {
            directive
                .split_once('=')
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("max-age"))
                // RFC 9111 §5.2: senders use the token form; recipients accept a quoted one.
                .and_then(|(_, value)| value.trim().trim_matches('"').parse::<u64>().ok())
        };
        if let Some(found) = found {
            seconds = Some(seconds.map_or(found, |s| s.min(found)));
        }
    }
    seconds.map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(CACHE_CONTROL, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn cache_control_is_read_conservatively() {
        assert_eq!(max_age(&headers(&[])), None);
        assert_eq!(
            max_age(&headers(&["public, max-age=600"])),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            max_age(&headers(&["Max-Age=\"60\"", "max-age=120"])),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            max_age(&headers(&["max-age=600, no-cache"])),
            Some(Duration::ZERO)
        );
        assert_eq!(max_age(&headers(&["max-age=soon"])), None);
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for (uri, ok) in [
            ("https://iam.example/jwks", true),
            ("http://127.0.0.1:9000/jwks", true),
            ("http://[::1]:9000/jwks", true),
            ("http://localhost:9000/jwks", true),
            ("http://iam.example/jwks", false),
            ("http://127.0.0.1.nip.io/jwks", false),
            ("ftp://iam.example/jwks", false),
        ] {
            assert_eq!(is_secure(&Url::parse(uri).unwrap()), ok, "{uri}");
        }
    }
}
