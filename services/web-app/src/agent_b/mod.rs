//! The call to Agent B (design step 12, client side): HTTPS with mutual TLS, the customer's
//! DPoP-bound access token, a fresh proof, and the request's correlation context.
//!
//! The client is built once at start with this workload's SVID and accepts exactly Agent B's
//! SPIFFE ID as the server: the host name in the URL is only dialled (and sent as SNI), the
//! certificate is judged by its URI SAN. Its connection is kept alive (HTTP/2 when offered)
//! and shared by every session.

use std::sync::{Arc, Mutex, PoisonError};

use http::{HeaderValue, Method, StatusCode};
use reqwest::redirect::Policy;
use telemetry::RequestContext;
use tokens::{DpopKey, Htu};
use url::Url;
use wire::DpopNonce;
use wire::chat::{ChatError, ChatRequest, ChatResponse};
use workload_identity::{ClientAlpn, IdentitySource, PeerPolicy};

use crate::config::AgentBConfig;
use crate::oidc::transport::error_chain;

/// The largest answer read: an answer, a few records and two dozen steps are a few kilobytes.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AgentBSetupError {
    #[error("cannot build the mTLS configuration for Agent B: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot build the HTTP client for Agent B: {0}")]
    Client(String),
    #[error("Agent B's URL cannot be a DPoP htu: {0}")]
    Htu(String),
}

/// Why a chat call did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum AgentBError {
    /// Agent B answered with an error (401, 403, 503, ...), and its body.
    #[error("Agent B answered {status}: {}", error.error)]
    Refused {
        status: StatusCode,
        error: ChatError,
    },
    /// Agent B answered an error status without a readable error body.
    #[error("Agent B answered {0} without an error body")]
    Status(StatusCode),
    #[error("Agent B did not answer in time")]
    Timeout,
    /// Connecting, the mTLS handshake (including a server that is not Agent B), or the
    /// exchange failed.
    #[error("Agent B cannot be reached: {0}")]
    Unreachable(String),
    #[error("Agent B's answer is unusable: {0}")]
    BadResponse(String),
    #[error("the DPoP proof cannot be made: {0}")]
    Proof(String),
}

/// One chat call.
#[derive(Debug)]
pub struct ChatCall<'a> {
    pub message: &'a str,
    pub access_token: &'a str,
    /// The session's key, which the access token is bound to.
    pub key: &'a DpopKey,
    pub context: &'a RequestContext,
}

/// Agent B's chat API.
#[derive(Debug)]
pub struct AgentB {
    http: reqwest::Client,
    chat_url: Url,
    htu: Htu,
    /// The latest `DPoP-Nonce` Agent B sent (RFC 9449 §9).
    nonce: Mutex<Option<DpopNonce>>,
}

impl AgentB {
    pub fn new(
        identity: Arc<dyn IdentitySource>,
        config: &AgentBConfig,
    ) -> Result<Self, AgentBSetupError> {
        let tls = workload_identity::client_config(
            identity,
            PeerPolicy::only(config.spiffe_id.clone()),
            ClientAlpn::Http,
        )?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .redirect(Policy::none())
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(5)))
            .timeout(config.timeout)
            .build()
            .map_err(|error| AgentBSetupError::Client(error_chain(&error)))?;
        let htu = Htu::parse(config.chat_url.as_str())
            .map_err(|error| AgentBSetupError::Htu(error.to_string()))?;
        Ok(Self {
            http,
            chat_url: config.chat_url.clone(),
            htu,
            nonce: Mutex::new(None),
        })
    }

    /// Sends the message. On `use_dpop_nonce` (401 with a `DPoP-Nonce`, RFC 9449 §9) it
    /// retries once with a new proof carrying the nonce.
    pub async fn chat(&self, call: &ChatCall<'_>) -> Result<ChatResponse, AgentBError> {
        let nonce = self
            .nonce
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let first = self.send(call, nonce).await?;
        let response = match nonce_challenge(&first) {
            Some(nonce) => self.send(call, Some(nonce)).await?,
            None => first,
        };
        read(response).await
    }

    async fn send(
        &self,
        call: &ChatCall<'_>,
        nonce: Option<DpopNonce>,
    ) -> Result<reqwest::Response, AgentBError> {
        let proof = call
            .key
            .proof(
                &Method::POST,
                &self.htu,
                Some(call.access_token),
                nonce.as_ref().map(DpopNonce::as_str),
            )
            .map_err(|error| AgentBError::Proof(error.to_string()))?;
        let authorization =
            HeaderValue::from_str(&format!("{} {}", wire::AuthScheme::DPoP, call.access_token))
                .map_err(|_| {
                    AgentBError::Proof("the access token is not a header value".to_owned())
                })?;
        let mut headers = http::HeaderMap::new();
        headers.insert(wire::headers::AUTHORIZATION, authorization);
        headers.insert(
            wire::headers::DPOP,
            HeaderValue::from_str(&proof).map_err(|error| AgentBError::Proof(error.to_string()))?,
        );
        telemetry::propagation::http::insert_request_context(&mut headers, call.context);
        let response = self
            .http
            .post(self.chat_url.clone())
            .headers(headers)
            .json(&ChatRequest {
                message: call.message.to_owned(),
            })
            .send()
            .await
            .map_err(|error| {
                if error.is_timeout() {
                    AgentBError::Timeout
                } else {
                    AgentBError::Unreachable(error_chain(&error))
                }
            })?;
        if let Some(nonce) = response
            .headers()
            .get(wire::headers::DPOP_NONCE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| DpopNonce::new(value).ok())
        {
            *self.nonce.lock().unwrap_or_else(PoisonError::into_inner) = Some(nonce);
        }
        Ok(response)
    }
}

/// The nonce of a `use_dpop_nonce` challenge: 401, `WWW-Authenticate: DPoP
/// error="use_dpop_nonce"`, and a `DPoP-Nonce` header (RFC 9449 §9).
fn nonce_challenge(response: &reqwest::Response) -> Option<DpopNonce> {
    if response.status() != StatusCode::UNAUTHORIZED {
        return None;
    }
    let asks = response
        .headers()
        .get_all(wire::headers::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| {
            value
                .get(..4)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("dpop"))
                && value.contains(&format!("error=\"{}\"", tokens::dpop::USE_DPOP_NONCE))
        });
    if !asks {
        return None;
    }
    let nonce = response
        .headers()
        .get(wire::headers::DPOP_NONCE)?
        .to_str()
        .ok()?;
    DpopNonce::new(nonce).ok()
}

async fn read(mut response: reqwest::Response) -> Result<ChatResponse, AgentBError> {
    let status = response.status();
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(AgentBError::BadResponse(format!(
            "over {MAX_RESPONSE_BYTES} bytes"
        )));
    }
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|error| {
            if error.is_timeout() {
                AgentBError::Timeout
            } else {
                AgentBError::Unreachable(error_chain(&error))
            }
        })?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(AgentBError::BadResponse(format!(
                "over {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    if status == StatusCode::OK {
        return serde_json::from_slice(&body).map_err(|error| {
            // Position only: the parser's message can quote the body, which holds the
            // customer's data.
            AgentBError::BadResponse(format!(
                "not a chat response ({:?} error at line {}, column {})",
                error.classify(),
                error.line(),
                error.column()
            ))
        });
    }
    match serde_json::from_slice::<ChatError>(&body) {
        Ok(error) => Err(AgentBError::Refused { status, error }),
        Err(_) => Err(AgentBError::Status(status)),
    }
}
