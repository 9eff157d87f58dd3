//! `POST /token`: service tokens (client credentials) and transaction tokens (token exchange).
//!
//! # Client authentication
//!
//! The client is the SPIFFE ID of the certificate presented on the mutual-TLS connection
//! (RFC 8705 §2.1 `tls_client_auth`, the subject matched by URI SAN). The TLS layer has already
//! verified the chain to the trust bundle, the validity dates, the single URI SAN and the trust
//! domain; here the SPIFFE ID must have a registration (`invalid_client` otherwise). A
//! `client_id` parameter, optional, must equal that SPIFFE ID (`invalid_client`). No other
//! client authentication is accepted: an `Authorization` header, `client_secret` or
//! `client_assertion` is an `invalid_request` (RFC 6749 §2.3: one method per request).
//!
//! # Order of checks
//!
//! Body (≤ 16 KiB, form-encoded, no repeated parameter except `resource`/`audience`) →
//! client → `grant_type` (absent: `invalid_request`; anything but the two below:
//! `unsupported_grant_type`) → the grant's own checks. Every refusal is answered with
//! `Cache-Control: no-store` and an RFC 6749 §5.2 body, audited, and reported as a rejected
//! step 15; nothing else changes.
//!
//! # `client_credentials` (service token)
//!
//! - **Target.** `audience` (RFC 8693 style, a logical name such as `agent-service-a`) and
//!   `resource` (RFC 8707, an absolute URI without fragment) are two spellings of the same thing
//!   here: every value of either is a requested target, and together they must name exactly one
//!   (a service token has one audience). None: `invalid_request`; two different ones, a
//!   malformed `resource`, or one the registration does not grant: `invalid_target`.
//! - **Scope** is required (RFC 6749 §3.3 lets the server refuse a request without one rather
//!   than guess a default): each scope must be granted for that audience (`invalid_scope`).
//! - **Lifetime.** `expires_in` (this server's extension, named after the response member) asks
//!   for a lifetime in whole seconds, 1 up to the configured maximum (15 minutes at most);
//!   more, or not a number: `invalid_request`. Default 5 minutes.
//! - The token: JWS `typ: at+jwt`, `iss`, `sub` = `client_id` = the SPIFFE ID, `aud`, `scope`,
//!   `jti`, `iat`, `exp`, `cnf.x5t#S256` = SHA-256 thumbprint of the presented certificate
//!   (RFC 8705 §3.1). The response says `token_type: Bearer`: RFC 8705 §3 binds the token
//!   without a new token type, and resources check the binding against the connection.
//!
//! # Token exchange (transaction token)
//!
//! RFC 8693 with draft-ietf-oauth-transaction-tokens:
//!
//! - The registration must have the exchange right (`unauthorized_client`).
//! - `subject_token_type` must be `urn:ietf:params:oauth:token-type:access_token`;
//!   `requested_token_type`, if sent, `urn:ietf:params:oauth:token-type:txn_token`;
//!   `actor_token` (delegation) and `expires_in` are not supported (all `invalid_request`).
//! - `audience`/`resource`, if sent, must be the trust domain (`invalid_target`).
//! - The `subject_token` is validated against the external IAM's JWKS (cached): signature,
//!   `iss`, `aud` containing the audience the registration names (the caller's own resource
//!   identifier), `typ: at+jwt`, expiry, required claims. Any failure: `invalid_grant` with the
//!   reason (the external IAM unreachable: `temporarily_unavailable`). The token may be
//!   DPoP-bound (`cnf.jkt`); no proof is asked for here: the workload that received it from the
//!   customer (Agent B) verified the proof at step 12, the token reaches this endpoint only from
//!   the registered workload it was minted for, over mutual TLS, and the transaction token does
//!   not carry the customer's token any further.
//! - `scope`, optional, must be within the subject token's scope (`invalid_scope`); by default
//!   the transaction token carries the subject's scope.
//! - The token: JWS `typ: txntoken+jwt`, `aud` = the trust domain, `txn` = this request's id
//!   (`X-Request-Id` / `X-Request-Context`, or generated), `sub` = the customer, `scope`,
//!   `tctx` = `{iss, scope}` of the customer's token, `req_wl` = the caller's SPIFFE ID, `jti`,
//!   a minute of life. Response: `issued_token_type` the txn-token URN, `token_type: N_A`.

mod client_credentials;
mod exchange;
mod form;
mod handler;
mod response;

use wire::OAuthError;

pub(crate) use handler::token;

/// A refused token request: the response, and the reason recorded in the log, the step event
/// and the audit (the description sent, or more detail for a server error).
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) error: OAuthError,
    pub(crate) reason: String,
}

macro_rules! refusals {
    ($($name:ident),*) => {
        impl Refusal {
            $(
                pub(crate) fn $name(reason: impl Into<String>) -> Self {
                    let reason = sendable(reason.into());
                    Self { error: OAuthError::$name(reason.clone()), reason }
                }
            )*
        }
    };
}

refusals!(
    invalid_request,
    invalid_client,
    invalid_grant,
    unauthorized_client,
    unsupported_grant_type,
    invalid_scope,
    invalid_target,
    temporarily_unavailable
);

/// RFC 6749 §5.2 allows neither `"` nor `\\` in a description; validator messages quote the
/// values they found, so quotes become `'` (rather than the `?` the wire crate would substitute)
/// and the audit records the same text the client received.
fn sendable(reason: String) -> String {
    if reason.contains(['"', '\\']) {
        reason.replace(['"', '\\'], "'")
    } else {
        reason
    }
}

impl Refusal {
    /// A fault of this server: a generic description for the client, the cause for the record.
    pub(crate) fn server_error(cause: impl Into<String>) -> Self {
        Self {
            error: OAuthError::server_error("the token could not be issued"),
            reason: cause.into(),
        }
    }

    /// The OAuth error code, for the audit.
    pub(crate) fn code(&self) -> &'static str {
        self.error.code().map_or("", |code| code.as_str())
    }
}
