//! The token endpoint transport: `openidconnect` builds the token requests (grant, PKCE
//! verifier, HTTP Basic client authentication) and parses the responses; this transport sends
//! them with what that crate does not know about: a DPoP proof (RFC 9449 §5), the server's DPoP
//! nonce when it asks for one (§8), and the login's request id.
//!
//! Being the crate's HTTP client (its `AsyncHttpClient` trait) rather than a hand-built token
//! request keeps every OAuth detail of the exchange in the library, and the proof is made here
//! from the request the library actually sends, so `htm` and `htu` cannot disagree with it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

use http::{HeaderValue, Method, StatusCode};
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use telemetry::RequestId;
use tokens::{DpopKey, Htu};
use wire::DpopNonce;

/// Largest token endpoint response read: tokens are a few kilobytes.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The latest `DPoP-Nonce` the token endpoint sent. Nonces are the server's, not a key's: every
/// session's next token request uses the latest one, so only the first request after a nonce
/// expires pays the extra round trip.
#[derive(Debug, Default)]
pub struct NonceCell(Mutex<Option<DpopNonce>>);

impl NonceCell {
    fn get(&self) -> Option<DpopNonce> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn remember(&self, response: &reqwest::Response) {
        let nonce = response
            .headers()
            .get(wire::headers::DPOP_NONCE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| DpopNonce::new(value).ok());
        if let Some(nonce) = nonce {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(nonce);
        }
    }
}

/// Why a token request could not be sent or its response read. Never holds a secret: the
/// request carries the client secret and a code or refresh token, so only its failure is kept.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the token request cannot be sent: {0}")]
    Request(String),
    #[error("the DPoP proof cannot be made: {0}")]
    Proof(String),
    #[error("the token endpoint did not answer: {0}")]
    Send(String),
    #[error("the token endpoint's response is over {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
}

/// Sends token requests to one token endpoint with proofs by one key.
#[derive(Debug)]
pub struct DpopTransport<'a> {
    pub http: &'a reqwest::Client,
    pub key: &'a DpopKey,
    /// The token endpoint as the proof's `htu`.
    pub token_endpoint: &'a Htu,
    pub nonces: &'a NonceCell,
    pub request_id: &'a RequestId,
}

impl<'c> AsyncHttpClient<'c> for DpopTransport<'_> {
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

impl DpopTransport<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let (parts, body) = request.into_parts();
        let first =
            into_http_response(self.attempt(&parts, &body, self.nonces.get()).await?).await?;
        match asks_for_nonce(&first) {
            // RFC 9449 §8: the server wants its nonce in the proof; one retry with a new proof
            // (a new `jti`: the first proof may already be in the server's replay cache).
            Some(nonce) => {
                into_http_response(self.attempt(&parts, &body, Some(nonce)).await?).await
            }
            None => Ok(first),
        }
    }

    async fn attempt(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        nonce: Option<DpopNonce>,
    ) -> Result<reqwest::Response, TransportError> {
        let url = parts.uri.to_string();
        let mut request = self
            .http
            .request(parts.method.clone(), &url)
            .body(body.to_vec());
        for (name, value) in &parts.headers {
            request = request.header(name, value);
        }
        // Only a POST to the token endpoint gets a proof, and the proof names the endpoint as
        // discovered, not the URL string the library built from it.
        if parts.method == Method::POST
            && Htu::parse(&url).is_ok_and(|htu| &htu == self.token_endpoint)
        {
            let proof = self
                .key
                .proof(
                    &Method::POST,
                    self.token_endpoint,
                    None,
                    nonce.as_ref().map(DpopNonce::as_str),
                )
                .map_err(|error| TransportError::Proof(error.to_string()))?;
            let proof = HeaderValue::from_str(&proof)
                .map_err(|error| TransportError::Proof(error.to_string()))?;
            request = request.header(wire::headers::DPOP, proof);
        }
        request = request.header(wire::headers::X_REQUEST_ID, self.request_id.as_str());
        let response = request
            .send()
            .await
            .map_err(|error| TransportError::Send(error_chain(&error)))?;
        self.nonces.remember(&response);
        Ok(response)
    }
}

/// The nonce of a `use_dpop_nonce` error: 400, `"error": "use_dpop_nonce"` and a `DPoP-Nonce`
/// header (RFC 9449 §8). Any other error is the final answer: retrying an `invalid_grant`
/// would only spend the code's one redemption on a request known to fail.
fn asks_for_nonce(response: &HttpResponse) -> Option<DpopNonce> {
    #[derive(serde::Deserialize)]
    struct ErrorBody<'a> {
        error: &'a str,
    }
    if response.status() != StatusCode::BAD_REQUEST {
        return None;
    }
    let body: ErrorBody<'_> = serde_json::from_slice(response.body()).ok()?;
    if body.error != tokens::dpop::USE_DPOP_NONCE {
        return None;
    }
    let nonce = response
        .headers()
        .get(wire::headers::DPOP_NONCE)?
        .to_str()
        .ok()?;
    DpopNonce::new(nonce).ok()
}

async fn into_http_response(
    mut response: reqwest::Response,
) -> Result<HttpResponse, TransportError> {
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(TransportError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| TransportError::Send(error_chain(&error)))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(TransportError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    builder
        .body(body)
        .map_err(|error| TransportError::Request(error.to_string()))
}

/// An error and its causes on one line (reqwest's `Display` alone says only "error sending
/// request").
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
