//! From an authorized request to the token response (RFC 6749 §5.1, RFC 8693 §2.2.1).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use serde::Serialize;
use telemetry::RequestId;
use telemetry::propagation::http::insert_request_id;
use tokens::claims::{ServiceTokenClaims, TransactionTokenClaims};
use wire::TokenType;
use wire::headers::{CACHE_CONTROL, NO_STORE};
use wire::jose::{TYP_ACCESS_TOKEN, TYP_TXN_TOKEN};
use wire::token_types::{TOKEN_TYPE_BEARER, TOKEN_TYPE_NOT_APPLICABLE};

use super::Refusal;
use crate::state::AppState;

/// A request that passed every check of step 15: the claims to sign.
#[derive(Debug)]
pub(super) enum Authorized {
    Service(Box<ServiceTokenClaims>),
    Transaction(Box<TransactionTokenClaims>),
}

/// A signed token and what the response says about it.
#[derive(Debug, Serialize)]
pub(super) struct Issued {
    pub(super) access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) issued_token_type: Option<&'static str>,
    pub(super) token_type: &'static str,
    pub(super) expires_in: i64,
    pub(super) scope: String,
    #[serde(skip)]
    pub(super) jti: String,
}

impl Authorized {
    /// What step 15 verified, for its event.
    pub(super) fn check(&self) -> &'static str {
        match self {
            Self::Service(_) => "client SVID, registration, audience and scope",
            Self::Transaction(_) => "client SVID, exchange right and the customer's access token",
        }
    }

    /// What step 16 issued, for its event.
    pub(super) fn what(&self) -> &'static str {
        match self {
            Self::Service(_) => "certificate-bound service token issued",
            Self::Transaction(_) => "transaction token issued",
        }
    }

    /// Step 16: signs with the active key.
    pub(super) fn sign(&self, state: &AppState) -> Result<Issued, Refusal> {
        let keys = state.keys.current();
        let signing_failed = |error: tokens::jwks::KeySetError| {
            Refusal::server_error(format!("signing failed: {error}"))
        };
        match self {
            Self::Service(claims) => Ok(Issued {
                access_token: keys
                    .sign(TYP_ACCESS_TOKEN, claims.as_ref())
                    .map_err(signing_failed)?,
                issued_token_type: None,
                // RFC 8705 §3: a certificate-bound token is still presented as a Bearer token;
                // the binding is checked against the connection, not announced by the type.
                token_type: TOKEN_TYPE_BEARER,
                expires_in: claims.exp - claims.iat,
                scope: claims.scope.to_string(),
                jti: claims.jti.clone(),
            }),
            Self::Transaction(claims) => Ok(Issued {
                access_token: keys
                    .sign(TYP_TXN_TOKEN, claims.as_ref())
                    .map_err(signing_failed)?,
                issued_token_type: Some(TokenType::TxnToken.as_str()),
                // The draft: a transaction token is not an access token for a resource's
                // `Authorization` header, so RFC 8693 §2.2.1's `N_A`.
                token_type: TOKEN_TYPE_NOT_APPLICABLE,
                expires_in: claims.exp - claims.iat,
                scope: claims.scope.to_string(),
                jti: claims.jti.clone().unwrap_or_default(),
            }),
        }
    }
}

impl Issued {
    pub(super) fn into_response(self, request_id: &RequestId) -> Response {
        let mut response = Json(&self).into_response();
        let headers = response.headers_mut();
        // RFC 6749 §5.1: token responses must not be cached.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
        insert_request_id(headers, request_id);
        response
    }
}
