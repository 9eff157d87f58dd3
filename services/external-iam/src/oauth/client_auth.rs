//! Client authentication at the token, introspection and revocation endpoints.
//!
//! Methods: `client_secret_basic` (RFC 6749 §2.3.1), `private_key_jwt` (RFC 7523 §2.2,
//! OpenID Connect Core §9) and `none` for public clients. Each client is registered with
//! exactly one method and must use it; a request that carries two methods is refused
//! (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request").
//! `client_secret_post` is not offered: secrets in bodies end up in logs more often than
//! secrets in headers.

use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sqlx::AnyPool;
use tokens::{Algorithm, Validator};
use wire::OAuthError;

use super::params::Params;
use crate::auth::opaque;
use crate::mfa::totp::constant_time_eq;
use crate::store::clients::{self, AuthMethod, Client};

/// RFC 7523 §2.2.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A client assertion must not be valid for longer than this: it is single-use proof of key
/// possession, not a credential to keep.
const MAX_ASSERTION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

/// An error of an endpoint that authenticates clients: an OAuth error, or an `invalid_client`
/// for a client that used HTTP Basic, which RFC 6749 §5.2 answers with 401 and a `Basic`
/// challenge.
#[derive(Debug)]
pub enum EndpointError {
    OAuth(OAuthError),
    BasicChallenge(OAuthError),
}

impl From<OAuthError> for EndpointError {
    fn from(error: OAuthError) -> Self {
        Self::OAuth(error)
    }
}

impl EndpointError {
    /// The OAuth error inside, for logs and tests.
    pub fn oauth(&self) -> &OAuthError {
        match self {
            Self::OAuth(e) | Self::BasicChallenge(e) => e,
        }
    }
}

impl IntoResponse for EndpointError {
    fn into_response(self) -> Response {
        match self {
            Self::OAuth(error) => error.into_response(),
            Self::BasicChallenge(error) => {
                let mut response = error.into_response();
                *response.status_mut() = StatusCode::UNAUTHORIZED;
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"external-iam\", charset=\"UTF-8\""),
                );
                response
            }
        }
    }
}

/// Where assertions may be addressed: the token endpoint URL (OpenID Connect Core §9) or the
/// issuer identifier (RFC 7523 §3 lets the authorization server choose; both name this server).
#[derive(Debug, Clone)]
pub struct AssertionAudiences {
    pub token_endpoint: String,
    pub issuer: String,
}

/// Authenticates the client of a request.
pub async fn authenticate(
    pool: &AnyPool,
    headers: &HeaderMap,
    params: &Params,
    audiences: &AssertionAudiences,
    clock: tokens::SharedClock,
) -> Result<Client, EndpointError> {
    let basic = basic_credentials(headers)?;
    let assertion = params.get("client_assertion");
    if params.get("client_secret").is_some() {
        return Err(OAuthError::invalid_request(
            "client_secret in the body (client_secret_post) is not supported; use HTTP Basic",
        )
        .into());
    }
    if basic.is_some() && assertion.is_some() {
        return Err(OAuthError::invalid_request(
            "the request uses more than one client authentication method",
        )
        .into());
    }
    let body_client_id = params.get("client_id");

    if let Some((client_id, secret)) = basic {
        if body_client_id.is_some_and(|id| id != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the authenticated client",
            )
            .into());
        }
        let client = clients::get(pool, &client_id).await.map_err(server_error)?;
        let presented = opaque::hash(&secret);
        let matches = client.as_ref().is_some_and(|c| {
            c.auth_method == AuthMethod::ClientSecretBasic
                && c.secret_hash
                    .as_deref()
                    .is_some_and(|stored| constant_time_eq(stored.as_bytes(), presented.as_bytes()))
        });
        return match client {
            Some(client) if matches => Ok(client),
            // One message for an unknown client, a wrong secret and a client registered for
            // another method: none of them tells an attacker which client ids exist.
            _ => Err(EndpointError::BasicChallenge(OAuthError::invalid_client(
                "client authentication failed",
            ))),
        };
    }

    if let Some(assertion) = assertion {
        if params.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
            return Err(OAuthError::invalid_request(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .into());
        }
        return authenticate_assertion(pool, assertion, body_client_id, audiences, clock).await;
    }

    let Some(client_id) = body_client_id else {
        return Err(OAuthError::invalid_client("client authentication is required").into());
    };
    let client = clients::get(pool, client_id).await.map_err(server_error)?;
    match client {
        Some(client) if client.auth_method == AuthMethod::None => Ok(client),
        _ => Err(OAuthError::invalid_client("client authentication failed").into()),
    }
}

/// `Authorization: Basic` credentials, form-url-decoded (RFC 6749 §2.3.1). `None` without an
/// `Authorization` header; an error for any other scheme or a malformed value.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, EndpointError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let malformed = || {
        EndpointError::BasicChallenge(OAuthError::invalid_client(
            "the Authorization header is not valid HTTP Basic client credentials",
        ))
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request("more than one Authorization header").into());
    }
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = text.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return Err(malformed());
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    // Each part is one form-urlencoded value. A raw `&` cannot occur in one (the encoding turns
    // it into %26); decoding through the form parser would instead cut the value there and
    // accept `secret&anything` as `secret`. A raw `=` is likewise refused, and so is anything
    // that does not decode to UTF-8 (the decoder would put U+FFFD in its place).
    let decode = |part: &str| -> Option<String> {
        if part.contains(['&', '=']) {
            return None;
        }
        let pair = format!("v={part}");
        let (_, value) = url::form_urlencoded::parse(pair.as_bytes()).next()?;
        (!value.is_empty() && !value.contains('\u{FFFD}')).then(|| value.into_owned())
    };
    match (decode(id), decode(secret)) {
        (Some(id), Some(secret)) => Ok(Some((id, secret))),
        _ => Err(malformed()),
    }
}

async fn authenticate_assertion(
    pool: &AnyPool,
    assertion: &str,
    body_client_id: Option<&str>,
    audiences: &AssertionAudiences,
    clock: tokens::SharedClock,
) -> Result<Client, EndpointError> {
    let failed = |why: &str| {
        tracing::info!(reason = why, "client assertion refused");
        EndpointError::OAuth(OAuthError::invalid_client("client authentication failed"))
    };
    // The client is named by the assertion's `iss`/`sub`; read it unverified only to find the
    // key, then verify everything with that client's registered keys.
    let claimed = unverified_issuer(assertion).ok_or_else(|| failed("unreadable assertion"))?;
    if body_client_id.is_some_and(|id| id != claimed) {
        return Err(OAuthError::invalid_request(
            "client_id in the body differs from the assertion's issuer",
        )
        .into());
    }
    let client = clients::get(pool, &claimed)
        .await
        .map_err(server_error)?
        .filter(|c| c.auth_method == AuthMethod::PrivateKeyJwt)
        .ok_or_else(|| failed("no private_key_jwt client with this id"))?;
    let jwks = client
        .jwks
        .clone()
        .ok_or_else(|| failed("the client has no registered keys"))?;

    let mut verified = None;
    for audience in [&audiences.token_endpoint, &audiences.issuer] {
        let validator = Validator::builder()
            .issuer(client.client_id.clone())
            .audience(audience.clone())
            .id_token_typ()
            .algorithms(&[Algorithm::Es256, Algorithm::EdDsa])
            .require(&["sub", "jti"])
            .max_lifetime(MAX_ASSERTION_LIFETIME)
            .clock(clock.clone())
            .keys(jwks.clone())
            .build()
            .map_err(|_| failed("validator"))?;
        match validator.validate::<AssertionClaims>(assertion).await {
            Ok(ok) => {
                verified = Some(ok);
                break;
            }
            Err(tokens::ValidationError::WrongAudience { .. }) => continue,
            Err(error) => return Err(failed(&error.to_string())),
        }
    }
    let verified =
        verified.ok_or_else(|| failed("the assertion is not addressed to this server"))?;
    let claims = verified.claims();
    if claims.sub != client.client_id {
        return Err(failed("sub differs from iss"));
    }
    let fresh = clients::consume_assertion_jti(
        pool,
        &client.client_id,
        &claims.jti,
        verified.expires_at(),
        clock.now(),
    )
    .await
    .map_err(server_error)?;
    if !fresh {
        return Err(failed("the assertion's jti was already used"));
    }
    Ok(client)
}

#[derive(serde::Deserialize)]
struct AssertionClaims {
    sub: String,
    jti: String,
}

fn unverified_issuer(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = tokens::b64::decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("iss")?.as_str().map(str::to_owned)
}

fn server_error(error: crate::store::StoreError) -> EndpointError {
    tracing::error!(%error, "client lookup failed");
    EndpointError::OAuth(OAuthError::server_error("internal error"))
}
