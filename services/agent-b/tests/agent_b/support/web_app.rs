//! The web app as Agent B sees it: a client presenting a workload's SVID over mutual TLS, a DPoP
//! key, and chat requests with a proof, the token and `X-Request-Context`.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderMap, Method};
use serde_json::{Value, json};
use telemetry::{RequestContext, RequestId, SystemRandom, TraceParent};
use tokens::{DpopKey, Htu, ManualClock};
use workload_identity::workloads::{AGENT_B, Workload};
use workload_identity::{ClientAlpn, PeerPolicy};

use super::pki::TestPki;

pub struct WebApp {
    http: reqwest::Client,
    /// Where the requests go (the listener's address).
    url: String,
    /// The URL proofs name (Agent B's configured public URL).
    pub htu: Htu,
    pub dpop: DpopKey,
}

/// One chat request, field by field, so tests can break any of them.
#[derive(Debug, Clone)]
pub struct Call {
    pub authorization: Option<String>,
    pub proofs: Vec<String>,
    pub context: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    pub fn www_authenticate(&self) -> Option<&str> {
        self.header("www-authenticate")
    }

    /// The `error` member of the body.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    /// The `step` numbers of the timeline, in order.
    pub fn step_numbers(&self) -> Vec<u64> {
        self.steps()
            .iter()
            .map(|s| s["step"].as_u64().unwrap())
            .collect()
    }

    pub fn steps(&self) -> Vec<Value> {
        self.body["steps"].as_array().cloned().unwrap_or_default()
    }

    /// The timeline entry for `step`.
    pub fn step(&self, step: u64) -> Value {
        self.steps()
            .into_iter()
            .find(|s| s["step"] == step)
            .unwrap_or_else(|| panic!("no step {step} in {}", self.body))
    }

    /// `(step, service, outcome)` of every entry.
    pub fn outline(&self) -> Vec<(u64, String, String)> {
        self.steps()
            .iter()
            .map(|s| {
                (
                    s["step"].as_u64().unwrap(),
                    s["service"].as_str().unwrap().to_owned(),
                    s["outcome"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

impl WebApp {
    /// A client presenting `workload`'s SVID to Agent B at `addr`, with a fresh DPoP key on
    /// `clock`; proofs name `chat_url`.
    pub fn new(
        pki: &TestPki,
        workload: Workload,
        addr: SocketAddr,
        chat_url: &url::Url,
        clock: Arc<ManualClock>,
    ) -> Self {
        let tls = workload_identity::client_config(
            pki.source(workload),
            PeerPolicy::only(pki.id(AGENT_B)),
            ClientAlpn::Http,
        )
        .unwrap();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .build()
            .unwrap();
        Self {
            http,
            url: format!("https://{addr}{}", chat_url.path()),
            htu: Htu::parse(chat_url.as_str()).unwrap(),
            dpop: DpopKey::generate(clock).unwrap(),
        }
    }

    /// The thumbprint tokens must be bound to (`cnf.jkt`).
    pub fn jkt(&self) -> String {
        self.dpop.jkt().to_owned()
    }

    /// A fresh proof for `POST` to the chat URL over `token`.
    pub fn proof(&self, token: &str) -> String {
        self.dpop
            .proof(&Method::POST, &self.htu, Some(token), None)
            .unwrap()
    }

    /// A correct chat request: `DPoP` scheme, a fresh proof, a new request context.
    pub fn call(&self, token: &str, message: &str) -> Call {
        Call {
            authorization: Some(format!("DPoP {token}")),
            proofs: vec![self.proof(token)],
            context: Some(new_context().encode()),
            content_type: Some("application/json".to_owned()),
            body: json!({ "message": message }).to_string(),
        }
    }

    /// Sends `message` with `token`, correctly.
    pub async fn chat(&self, token: &str, message: &str) -> Reply {
        self.send(self.call(token, message)).await
    }

    pub async fn send(&self, call: Call) -> Reply {
        let mut request = self.http.post(&self.url).body(call.body);
        if let Some(value) = call.authorization {
            request = request.header("authorization", value);
        }
        for proof in call.proofs {
            request = request.header("dpop", proof);
        }
        if let Some(value) = call.context {
            request = request.header("x-request-context", value);
        }
        if let Some(value) = call.content_type {
            request = request.header("content-type", value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// A request context as the web app makes one.
pub fn new_context() -> RequestContext {
    let rng = SystemRandom::new();
    RequestContext::new(
        RequestId::generate(&rng).unwrap(),
        TraceParent::generate(&rng).unwrap(),
    )
}
