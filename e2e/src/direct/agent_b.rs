//! Agent B's chat API (`POST /v1/chat`, design step 12) called directly over mutual TLS,
//! presenting a workload's SVID from the system's PKI (the web app's, as the web app does), with
//! whatever credentials a test chooses to send.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use telemetry::RequestContext;
use tokens::Htu;
use wire::chat::ChatRequest;
use workload_identity::workloads::{self, Workload};
use workload_identity::{ClientAlpn, IdentitySource, PeerPolicy};

use super::{Challenge, CustomerToken, request_context};
use crate::kit::TestEnv;

/// A chat action crosses four programs; generous for a loaded machine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A client of Agent B's chat API as one workload.
#[derive(Debug)]
pub struct AgentBClient {
    http: reqwest::Client,
    chat_url: String,
    htu: Htu,
}

/// An answer, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl AgentBClient {
    /// A client presenting `workload`'s SVID and accepting exactly Agent B's SPIFFE ID as the
    /// server.
    pub fn new(env: &TestEnv, workload: Workload) -> Self {
        Self::with_identity(env, super::identity(env, workload))
    }

    /// A client presenting `identity`.
    pub fn with_identity(env: &TestEnv, identity: Arc<dyn IdentitySource>) -> Self {
        let tls = workload_identity::client_config(
            identity,
            PeerPolicy::only(super::spiffe_id(workloads::AGENT_B)),
            ClientAlpn::Http,
        )
        .unwrap_or_else(|error| panic!("cannot build the TLS client for Agent B: {error}"));
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|error| panic!("cannot build the HTTP client for Agent B: {error}"));
        let chat_url = env.stack().agent_b_chat_url();
        let htu = Htu::parse(&chat_url)
            .unwrap_or_else(|error| panic!("Agent B's chat URL is not an htu: {error}"));
        Self {
            http,
            chat_url,
            htu,
        }
    }

    /// A fresh proof for `POST /v1/chat` by the token's key, with the token's `ath`: what the
    /// web app sends with every call.
    pub fn proof(&self, token: &CustomerToken) -> String {
        token
            .key
            .proof(&Method::POST, &self.htu, Some(&token.access_token), None)
            .unwrap_or_else(|error| panic!("cannot make a DPoP proof: {error}"))
    }

    /// The call the web app makes: `Authorization: DPoP <token>`, a fresh proof, a fresh
    /// correlation context.
    pub async fn chat(&self, token: &CustomerToken, message: &str) -> Reply {
        let proof = self.proof(token);
        let headers = chat_headers(
            Some(&format!("DPoP {}", token.access_token)),
            Some(&proof),
            &request_context(),
        );
        self.post(headers, message).await
    }

    /// `POST /v1/chat` with `headers` and `{"message": message}`.
    pub async fn post(&self, headers: HeaderMap, message: &str) -> Reply {
        let response = self
            .http
            .post(&self.chat_url)
            .headers(headers)
            .json(&ChatRequest {
                message: message.to_owned(),
            })
            .send()
            .await
            .unwrap_or_else(|error| panic!("the call to Agent B failed: {error:?}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .unwrap_or_else(|error| panic!("reading Agent B's answer failed: {error}"));
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// The headers of a chat call: `Authorization` and `DPoP` exactly as given (left out when
/// `None`), and the correlation context.
pub fn chat_headers(
    authorization: Option<&str>,
    proof: Option<&str>,
    context: &RequestContext,
) -> HeaderMap {
    let value = |text: &str| {
        HeaderValue::from_str(text).unwrap_or_else(|_| panic!("not a header value: {text:?}"))
    };
    let mut headers = HeaderMap::new();
    if let Some(authorization) = authorization {
        headers.insert(wire::headers::AUTHORIZATION, value(authorization));
    }
    if let Some(proof) = proof {
        headers.insert(wire::headers::DPOP, value(proof));
    }
    telemetry::propagation::http::insert_request_context(&mut headers, context);
    headers
}

impl Reply {
    /// A header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body as JSON of type `T`; panics, quoting the reply, if it is not.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not the expected JSON ({error}): {self}"))
    }

    /// The single `WWW-Authenticate` challenge; panics, quoting the reply, without exactly one.
    pub fn challenge(&self) -> Challenge {
        let values: Vec<&str> = self
            .headers
            .get_all(wire::headers::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        match values.as_slice() {
            [one] => Challenge::parse(one)
                .unwrap_or_else(|| panic!("an unreadable challenge {one:?}: {self}")),
            _ => panic!("expected one WWW-Authenticate challenge: {self}"),
        }
    }

    /// The request id Agent B answered under (`X-Request-Id`).
    pub fn request_id(&self) -> String {
        self.header(wire::headers::X_REQUEST_ID.as_str())
            .unwrap_or_else(|| panic!("no X-Request-Id: {self}"))
            .to_owned()
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.status)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {}", value.to_str().unwrap_or("<binary>"))?;
        }
        write!(f, "\n{}", self.body)
    }
}
