//! Authorization server metadata (RFC 8414) and the JWK Set.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use serde_json::json;
use url::Url;
use wire::GrantType;
use wire::headers::CACHE_CONTROL;

use crate::config::issuer_string;
use crate::state::AppState;

/// How long validators may cache the JWK Set. Short, so a staged key reaches every cache well
/// within the default rotation delay; validators clamp it to their own bounds anyway.
const JWKS_MAX_AGE: &str = "public, max-age=60";

/// The paths this server answers, under the issuer's own path (RFC 8414 §3 for the metadata).
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub token: String,
    pub jwks: String,
    pub metadata: String,
}

impl Paths {
    pub(crate) fn for_issuer(issuer: &Url) -> Self {
        let prefix = issuer.path().trim_end_matches('/');
        Self {
            token: format!("{prefix}/token"),
            jwks: format!("{prefix}/jwks.json"),
            metadata: format!("/.well-known/oauth-authorization-server{prefix}"),
        }
    }
}

/// The metadata document, serialised once at start-up.
pub(crate) fn document(issuer: &Url) -> Bytes {
    let base = issuer_string(issuer);
    let origin = issuer.origin().ascii_serialization();
    let paths = Paths::for_issuer(issuer);
    let token_endpoint = format!("{origin}{}", paths.token);
    let document = json!({
        "issuer": base,
        "token_endpoint": token_endpoint,
        "jwks_uri": format!("{origin}{}", paths.jwks),
        // No authorization endpoint: workloads obtain tokens directly, never via a browser.
        "response_types_supported": [],
        "grant_types_supported": [
            GrantType::ClientCredentials.as_str(),
            GrantType::TokenExchange.as_str(),
        ],
        "token_endpoint_auth_methods_supported": ["tls_client_auth"],
        "tls_client_certificate_bound_access_tokens": true,
        // RFC 8705 §5: every endpoint here is already on mutual TLS, so the aliases are the
        // endpoints themselves; clients that look for aliases find them.
        "mtls_endpoint_aliases": { "token_endpoint": token_endpoint },
    });
    Bytes::from(document.to_string())
}

pub(crate) async fn metadata(State(state): State<AppState>) -> Response {
    let mut response = state.metadata.clone().into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    let body = state.keys.current().jwks().to_json().to_string();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    // RFC 7517 §8.5.
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(JWKS_MAX_AGE));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_issuer_path() {
        let root = Paths::for_issuer(&Url::parse("https://iam.test:8443").unwrap());
        assert_eq!(root.token, "/token");
        assert_eq!(root.metadata, "/.well-known/oauth-authorization-server");
        let nested = Paths::for_issuer(&Url::parse("https://iam.test/internal/").unwrap());
        assert_eq!(nested.token, "/internal/token");
        assert_eq!(nested.jwks, "/internal/jwks.json");
        assert_eq!(
            nested.metadata,
            "/.well-known/oauth-authorization-server/internal"
        );
    }
}
