//! Steps 14–16: the service token and the user context, from the internal IAM over mutual TLS.
//!
//! One HTTP client, built at start: its TLS configuration presents Agent B's SVID (reloaded when
//! it rotates) and accepts exactly the IAM's SPIFFE ID; it speaks HTTP/2 only, so both token
//! requests of a chat action, and every later one, share one kept-alive connection, pinged while
//! idle. When the connection is lost (the IAM restarted, say) the next request dials again: no
//! restart of Agent B is needed.
//!
//! - The **service token** (`client_credentials`, audience `agent-service-a`, scope
//!   `cross-namespace:invoke`) is cached: see [`service_token`].
//! - The **transaction token** (RFC 8693 exchange of the customer's access token) is requested
//!   for every chat action: it names the request (`txn`) and lives a minute. The exchange asks
//!   for scope `agent:invoke` only, the one scope the rest of the chain acts on, so the customer's
//!   other scopes (`openid`, `chatbot:access`) do not travel into namespace-a.

mod error;
mod request;
pub mod service_token;

use std::sync::Arc;
use std::time::Duration;

use telemetry::{RequestContext, SystemRandom};
use tokens::SharedClock;
use url::Url;
use wire::audiences::AGENT_SERVICE_A;
use wire::scopes::{AGENT_INVOKE, CROSS_NAMESPACE_INVOKE};
use wire::token_types::{TOKEN_TYPE_BEARER, TOKEN_TYPE_NOT_APPLICABLE};
use wire::{GrantType, TokenType};
use workload_identity::{ClientAlpn, IdentitySource, PeerPolicy, SpiffeId};

pub use error::IamError;
pub use request::IssuedToken;
pub use service_token::{CachedToken, Freshness, ServiceTokenCache};

use request::{Expect, token_request};

/// Dialling the IAM: it is local to the trust domain, so a slow dial means it is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One token request, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pings keep the idle connection known-good, so a chat action does not find it dead.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep the connection through quiet periods; the pings above find it if it died.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// The design: service tokens never live more than 15 minutes; a longer `expires_in` is refused.
const MAX_SERVICE_TOKEN_LIFETIME: i64 = 15 * 60;
/// Transaction tokens live about a minute; five is the most believed.
const MAX_TXN_TOKEN_LIFETIME: i64 = 5 * 60;

/// The `client_credentials` request: always the same, so written once.
const SERVICE_TOKEN_FORM: [(&str, &str); 3] = [
    ("grant_type", GrantType::ClientCredentials.as_str()),
    ("audience", AGENT_SERVICE_A),
    ("scope", CROSS_NAMESPACE_INVOKE),
];

const SERVICE_TOKEN: Expect = Expect {
    grant: GrantType::ClientCredentials.as_str(),
    // RFC 8705 §3: a certificate-bound token keeps the Bearer type.
    token_type: TOKEN_TYPE_BEARER,
    issued_token_type: None,
    max_lifetime: MAX_SERVICE_TOKEN_LIFETIME,
};

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum IamSetupError {
    #[error("cannot build the TLS configuration for the IAM: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot build the HTTP client for the IAM: {0}")]
    Client(#[from] reqwest::Error),
}

/// The internal IAM's token endpoint, as this workload sees it. Built once; shared.
#[derive(Debug)]
pub struct IamClient {
    http: reqwest::Client,
    token_url: Url,
    service_tokens: ServiceTokenCache,
    rng: SystemRandom,
}

impl IamClient {
    /// A client for `token_url`, presenting `identity` and accepting only `iam` as the server.
    pub fn new(
        identity: Arc<dyn IdentitySource>,
        iam: SpiffeId,
        token_url: Url,
        clock: SharedClock,
    ) -> Result<Self, IamSetupError> {
        // ALPN `h2` only (the list gRPC clients offer), and HTTP/2 from the first byte: the
        // connection pool then knows before dialling that one connection carries every request,
        // so concurrent first requests wait for the one connection being dialled instead of each
        // opening its own (which ALPN negotiation, learnt only after the handshake, would cause).
        let tls =
            workload_identity::client_config(identity, PeerPolicy::only(iam), ClientAlpn::Grpc)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .http2_prior_knowledge()
            // The token endpoint is configuration; an answer from anywhere else is not the IAM's.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
            .http2_keep_alive_timeout(KEEPALIVE_TIMEOUT)
            .http2_keep_alive_while_idle(true)
            .build()?;
        Ok(Self {
            http,
            token_url,
            service_tokens: ServiceTokenCache::new(clock),
            rng: SystemRandom::new(),
        })
    }

    /// The service token for Agent A: cached, or issued now by `client_credentials`
    /// (RFC 6749 §4.4; the client is authenticated by its certificate, RFC 8705 §2.1, and the
    /// token is bound to it, §3).
    pub async fn service_token(
        &self,
        context: &RequestContext,
    ) -> Result<(Arc<CachedToken>, Freshness), IamError> {
        self.service_tokens
            .get(|| {
                token_request(
                    &self.http,
                    &self.token_url,
                    &SERVICE_TOKEN_FORM,
                    context,
                    &self.rng,
                    &SERVICE_TOKEN,
                )
            })
            .await
    }

    /// Drops the cached service token with this `jti` after Agent A refused it.
    pub fn forget_service_token(&self, jti: &str) {
        self.service_tokens.forget(jti);
    }

    /// The user context for this request: the customer's access token exchanged for a
    /// transaction token (RFC 8693 §2.1), whose `txn` is the request id sent in `X-Request-Id`.
    pub async fn transaction_token(
        &self,
        subject_token: &str,
        context: &RequestContext,
    ) -> Result<IssuedToken, IamError> {
        token_request(
            &self.http,
            &self.token_url,
            &[
                ("grant_type", GrantType::TokenExchange.as_str()),
                ("subject_token", subject_token),
                ("subject_token_type", TokenType::AccessToken.as_str()),
                ("requested_token_type", TokenType::TxnToken.as_str()),
                ("scope", AGENT_INVOKE),
            ],
            context,
            &self.rng,
            &Expect {
                grant: "token exchange",
                // RFC 8693 §2.2.1: a transaction token is not an access token.
                token_type: TOKEN_TYPE_NOT_APPLICABLE,
                issued_token_type: Some(TokenType::TxnToken.as_str()),
                max_lifetime: MAX_TXN_TOKEN_LIFETIME,
            },
        )
        .await
    }
}
