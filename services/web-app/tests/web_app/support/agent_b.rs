//! A small Agent B for the web app's side of step 12: HTTPS with mutual TLS that admits only
//! the web app's SVID, and the checks the real Agent B makes on what the web app sends — the
//! customer's access token against the IAM's JWKS (issuer, audience, `at+jwt`, `agent:invoke`,
//! expiry on the test clock), the DPoP proof (htm, htu, ath, `cnf.jkt`, replay) and the
//! `X-Request-Context`. What it answers is set by the test.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::json;
use tokens::claims::AccessTokenClaims;
use tokens::dpop::{DpopConfig, NonceSource, Presentation};
use tokens::{Algorithm, DpopVerifier, Htu, JwksCache, SharedClock, Validator};
use url::Url;
use wire::Outcome;
use wire::chat::{AccountData, ChatRequest, ChatResponse, Money, Records, TimelineStep};
use workload_identity::{FileSource, PeerIdentity, PeerPolicy, SpiffeId};

use super::RESOURCE;

/// What the fake answers.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentBMode {
    /// The customer's balance, with steps 12, 13 and 22.
    Answer,
    /// This status and `error`, with step 12.
    Fail(StatusCode, &'static str),
    /// Records of another customer.
    OtherCustomersData,
}

/// What the fake saw of one request it accepted.
#[derive(Debug, Clone)]
pub struct Seen {
    pub peer: String,
    pub subject: String,
    pub jti: String,
    pub proof_jkt: String,
    pub request_id: String,
    pub message: String,
}

struct Inner {
    validator: Validator,
    dpop: DpopVerifier,
    htu: Htu,
    mode: Mutex<AgentBMode>,
    seen: Mutex<Vec<Seen>>,
    refusals: Mutex<Vec<String>>,
}

pub struct FakeAgentB {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FakeAgentB {
    /// Serves on 127.0.0.1:0 as `identity`, admitting only `client`.
    pub async fn start(
        identity: Arc<FileSource>,
        client: SpiffeId,
        issuer: &str,
        clock: SharedClock,
        nonces: bool,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let jwks = JwksCache::http(http, Url::parse(&format!("{issuer}/jwks")).unwrap())
            .unwrap()
            .clock(clock.clone())
            .build()
            .unwrap();
        let validator = Validator::builder()
            .issuer(issuer)
            .audience(RESOURCE)
            .typ("at+jwt")
            .algorithms(&[Algorithm::Es256])
            .require_scopes(&["agent:invoke"])
            .clock(clock.clone())
            .keys(jwks)
            .build()
            .unwrap();
        let mut dpop = DpopVerifier::new(DpopConfig::default(), clock).unwrap();
        if nonces {
            dpop = dpop.require_nonces(NonceSource::generate(300).unwrap());
        }
        let inner = Arc::new(Inner {
            validator,
            dpop,
            htu: Htu::parse(&format!("https://localhost:{}/v1/chat", addr.port())).unwrap(),
            mode: Mutex::new(AgentBMode::Answer),
            seen: Mutex::new(Vec::new()),
            refusals: Mutex::new(Vec::new()),
        });
        let tls = workload_identity::server_config(identity, PeerPolicy::only(client)).unwrap();
        let router = Router::new()
            .route("/v1/chat", post(chat))
            .with_state(inner.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(workload_identity::serve(listener, tls, router, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            inner,
            _stop: stop,
        }
    }

    /// The chat URL the web app is configured with (its host is only dialled; the server is
    /// authenticated by its SPIFFE ID).
    pub fn chat_url(&self) -> String {
        format!("https://localhost:{}/v1/chat", self.addr.port())
    }

    pub fn set_mode(&self, mode: AgentBMode) {
        *self.inner.mode.lock().unwrap() = mode;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    /// Why requests were refused, in order.
    pub fn refusals(&self) -> Vec<String> {
        self.inner.refusals.lock().unwrap().clone()
    }
}

fn error(status: StatusCode, code: &str, description: String, nonce: Option<String>) -> Response {
    let mut response = (
        status,
        axum::Json(json!({"error": code, "error_description": description})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = format!("DPoP algs=\"ES256 EdDSA\", error=\"{code}\"");
        response.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_str(&challenge).unwrap(),
        );
    }
    if let Some(nonce) = nonce {
        response
            .headers_mut()
            .insert("dpop-nonce", HeaderValue::from_str(&nonce).unwrap());
    }
    response
}

async fn chat(
    State(inner): State<Arc<Inner>>,
    peer: PeerIdentity,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match check(&inner, &peer, &headers, &body).await {
        Ok(seen) => answer(&inner, seen),
        Err(response) => response,
    }
}

async fn check(
    inner: &Inner,
    peer: &PeerIdentity,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Seen, Response> {
    let refuse = |status: StatusCode, code: &str, why: String, nonce: Option<String>| {
        inner.refusals.lock().unwrap().push(why.clone());
        error(status, code, why, nonce)
    };
    let unauthorized = |why: String| refuse(StatusCode::UNAUTHORIZED, "invalid_token", why, None);
    let creds = tokens::dpop::credentials(headers)
        .map_err(|e| unauthorized(e.to_string()))?
        .ok_or_else(|| unauthorized("no credentials".into()))?;
    let proof = tokens::dpop::proof_header(headers).map_err(|e| unauthorized(e.to_string()))?;
    let claims = inner
        .validator
        .validate::<AccessTokenClaims>(creds.token)
        .await
        .map_err(|e| unauthorized(e.to_string()))?
        .into_claims();
    let presentation =
        tokens::dpop::check_presentation(creds.scheme, claims.dpop_jkt(), proof.is_some())
            .map_err(|e| unauthorized(e.to_string()))?;
    let Presentation::Dpop { jkt } = presentation else {
        return Err(unauthorized("bearer presentation".into()));
    };
    let verified = inner
        .dpop
        .verify(
            proof.unwrap_or_default(),
            &Method::POST,
            &inner.htu,
            Some(creds.token),
            Some(jkt),
        )
        .map_err(|e| {
            refuse(
                StatusCode::UNAUTHORIZED,
                e.error_code(),
                e.to_string(),
                e.fresh_nonce().map(str::to_owned),
            )
        })?;
    let context = telemetry::propagation::http::request_context(headers)
        .map_err(|e| {
            refuse(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                e.to_string(),
                None,
            )
        })?
        .ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "no X-Request-Context".into(),
                None,
            )
        })?;
    let request: ChatRequest = serde_json::from_slice(body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            e.to_string(),
            None,
        )
    })?;
    Ok(Seen {
        peer: peer.spiffe_id().to_string(),
        subject: claims.sub,
        jti: claims.jti,
        proof_jkt: verified.jkt().to_owned(),
        request_id: context.request_id.as_str().to_owned(),
        message: request.message,
    })
}

fn step(number: u32, check: &str, outcome: Outcome) -> TimelineStep {
    TimelineStep {
        step: number,
        service: "agent-b".into(),
        check: check.into(),
        outcome,
        duration_ms: 0.8,
        detail: None,
    }
}

fn answer(inner: &Inner, seen: Seen) -> Response {
    let subject = seen.subject.clone();
    inner.seen.lock().unwrap().push(seen);
    let mode = inner.mode.lock().unwrap().clone();
    match mode {
        AgentBMode::Fail(status, code) => {
            let body = json!({
                "error": code,
                "error_description": "set by the test",
                "steps": [step(12, "customer token and DPoP proof", Outcome::Ok)],
            });
            (status, axum::Json(body)).into_response()
        }
        AgentBMode::Answer | AgentBMode::OtherCustomersData => {
            let owner = if mode == AgentBMode::Answer {
                subject
            } else {
                "demo-user-bob".to_owned()
            };
            let response = ChatResponse {
                answer: "Your balance is 1842.50 EUR.".into(),
                data: Some(AccountData {
                    subject: owner,
                    records: Records::Balance(Money {
                        amount_minor: 184_250,
                        currency: "EUR".into(),
                    }),
                }),
                steps: vec![
                    step(12, "customer token and DPoP proof", Outcome::Ok),
                    step(13, "intent: balance", Outcome::Ok),
                    step(22, "answer returned", Outcome::Ok),
                    // A record the web app must not show: only it reports its own steps.
                    TimelineStep {
                        service: "web-app".into(),
                        ..step(11, "forged", Outcome::Ok)
                    },
                ],
            };
            axum::Json(response).into_response()
        }
    }
}
