//! The edge error of every OAuth-speaking HTTP endpoint: one value that knows its HTTP status,
//! its OAuth error code and description, its `WWW-Authenticate` challenge and its gRPC status.
//!
//! Token endpoint errors (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 9449 §5 and §8) are built with the
//! constructors on [`OAuthError`]; resource server errors (RFC 6750 §3, RFC 9449 §7.1 and §9) from
//! the server's [`BearerChallenge`] or [`DpopChallenge`], so they always carry the challenge.
//!
//! The description is sent to the client: it says what was wrong, never a secret. The cause chain
//! belongs in the log line of the step that rejected the request.

mod challenge;
mod credentials;
mod description;
mod grpc_status;
mod response;

pub use challenge::{BearerChallenge, ChallengeError, DpopChallenge, MAX_REALM_LEN};
pub use description::ErrorDescription;
pub use response::ErrorBody;

use crate::dpop_nonce::DpopNonce;
use crate::error_code::ErrorCode;
use crate::grant_types::UnsupportedGrantType;
use crate::token_types::UnsupportedTokenType;
use challenge::Challenge;
use http::{HeaderValue, StatusCode};
use std::fmt;

/// An OAuth error response.
///
/// Boxed: errors are the cold path, and a small `Err` keeps every `Result<_, OAuthError>` in the
/// handlers as cheap as the success value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    inner: Box<Inner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    status: StatusCode,
    /// `None` only for a resource request without credentials (RFC 6750 §3.1).
    code: Option<ErrorCode>,
    description: Option<ErrorDescription>,
    challenge: Option<Challenge>,
    required_scope: Option<String>,
    dpop_nonce: Option<DpopNonce>,
}

impl OAuthError {
    /// An error of the token endpoint: no challenge, so never 401 (RFC 9110 §15.5.2 requires a
    /// challenge with every 401).
    fn token_endpoint(
        status: StatusCode,
        code: ErrorCode,
        description: impl Into<ErrorDescription>,
    ) -> Self {
        Self {
            inner: Box::new(Inner {
                status,
                code: Some(code),
                description: Some(description.into()),
                challenge: None,
                required_scope: None,
                dpop_nonce: None,
            }),
        }
    }

    pub(crate) fn resource(
        challenge: Challenge,
        status: StatusCode,
        code: Option<ErrorCode>,
        description: Option<ErrorDescription>,
    ) -> Self {
        Self {
            inner: Box::new(Inner {
                status,
                code,
                description,
                challenge: Some(challenge),
                required_scope: None,
                dpop_nonce: None,
            }),
        }
    }

    fn with_required_scope(mut self, scope: &str) -> Self {
        self.inner.required_scope = challenge::is_scope_list(scope).then(|| scope.to_owned());
        self
    }

    fn with_dpop_nonce(mut self, nonce: DpopNonce) -> Self {
        self.inner.dpop_nonce = Some(nonce);
        self
    }

    /// 400 `invalid_request`: a missing, repeated or malformed parameter (RFC 6749 §5.2).
    pub fn invalid_request(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            description,
        )
    }

    /// 400 `invalid_client`: client authentication failed (RFC 6749 §5.2), for clients that
    /// authenticate with mutual TLS (RFC 8705) or a signed assertion. A client that sent
    /// credentials in the `Authorization` header must instead get 401 with a challenge for its
    /// scheme (RFC 6749 §5.2), which this type does not build.
    pub fn invalid_client(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidClient,
            description,
        )
    }

    /// 400 `invalid_grant`: a code, refresh token or subject token that is invalid, expired,
    /// revoked, replayed or issued to another client (RFC 6749 §5.2).
    pub fn invalid_grant(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidGrant,
            description,
        )
    }

    /// 400 `unauthorized_client`: this client may not use this grant type (RFC 6749 §5.2).
    pub fn unauthorized_client(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnauthorizedClient,
            description,
        )
    }

    /// 400 `unsupported_grant_type` (RFC 6749 §5.2).
    pub fn unsupported_grant_type(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedGrantType,
            description,
        )
    }

    /// 400 `unsupported_response_type` (RFC 6749 §4.1.2.1), for an authorization request that
    /// cannot be redirected back safely.
    pub fn unsupported_response_type(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedResponseType,
            description,
        )
    }

    /// 400 `invalid_scope`: unknown scope, or more than the client or subject token allows
    /// (RFC 6749 §5.2).
    pub fn invalid_scope(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidScope,
            description,
        )
    }

    /// 400 `invalid_target`: an audience or resource this client may not obtain a token for
    /// (RFC 8707 §2, RFC 8693 §2.2.2).
    pub fn invalid_target(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidTarget,
            description,
        )
    }

    /// 403 `access_denied` (RFC 6749 §4.1.2.1), for a denial that cannot be redirected.
    pub fn access_denied(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(StatusCode::FORBIDDEN, ErrorCode::AccessDenied, description)
    }

    /// 400 `invalid_dpop_proof` at the token endpoint (RFC 9449 §5).
    pub fn invalid_dpop_proof(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidDpopProof,
            description,
        )
    }

    /// 400 `use_dpop_nonce` at the token endpoint, with the nonce in a `DPoP-Nonce` header
    /// (RFC 9449 §8).
    pub fn use_dpop_nonce(nonce: DpopNonce, description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::BAD_REQUEST,
            ErrorCode::UseDpopNonce,
            description,
        )
        .with_dpop_nonce(nonce)
    }

    /// 500 `server_error` (RFC 6749 §4.1.2.1). The description stays generic; the cause goes to
    /// the log.
    pub fn server_error(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServerError,
            description,
        )
    }

    /// 503 `temporarily_unavailable` (RFC 6749 §4.1.2.1), e.g. a JWKS that cannot be fetched.
    pub fn temporarily_unavailable(description: impl Into<ErrorDescription>) -> Self {
        Self::token_endpoint(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TemporarilyUnavailable,
            description,
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.inner.status
    }

    /// The OAuth error code; `None` for a resource request without credentials.
    pub fn code(&self) -> Option<ErrorCode> {
        self.inner.code
    }

    /// The description sent to the client.
    pub fn description(&self) -> Option<&ErrorDescription> {
        self.inner.description.as_ref()
    }

    /// The nonce for the `DPoP-Nonce` header, if any.
    pub fn dpop_nonce(&self) -> Option<&DpopNonce> {
        self.inner.dpop_nonce.as_ref()
    }

    /// The `WWW-Authenticate` value as text, for resource server errors.
    pub fn www_authenticate_value(&self) -> Option<String> {
        let challenge = self.inner.challenge.as_ref()?;
        Some(challenge.render(
            self.inner.code,
            self.inner.description.as_ref(),
            self.inner.required_scope.as_deref(),
        ))
    }

    /// The `WWW-Authenticate` header value, for resource server errors. Every component is
    /// printable ASCII by construction, so the conversion cannot fail in practice; should it ever,
    /// the header is left out rather than sent malformed.
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        HeaderValue::try_from(self.www_authenticate_value()?).ok()
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.inner.code, &self.inner.description) {
            (Some(code), Some(description)) => write!(f, "{code}: {description}"),
            (Some(code), None) => write!(f, "{code}"),
            (None, _) => f.write_str("authentication required"),
        }
    }
}

impl std::error::Error for OAuthError {}

impl From<UnsupportedGrantType> for OAuthError {
    fn from(_: UnsupportedGrantType) -> Self {
        Self::unsupported_grant_type("grant_type is not supported")
    }
}

/// RFC 8693 §2.2.2: an unacceptable token type is an `invalid_request`.
impl From<UnsupportedTokenType> for OAuthError {
    fn from(_: UnsupportedTokenType) -> Self {
        Self::invalid_request("token type is not supported")
    }
}

#[cfg(test)]
mod tests;
