//! Shared fixtures: an issuer that signs tokens, and a real JWKS server on 127.0.0.1:0.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokens::jwks::JwksCacheBuilder;
use tokens::validate::ValidatorBuilder;
use tokens::{
    Algorithm, JwksCache, KeySource, ManualClock, SharedClock, SigningKey, Validator, b64,
};
use url::Url;

pub const ISSUER: &str = "https://iam.example";
pub const AUDIENCE: &str = "agent-b";
pub const NOW: i64 = 1_700_000_000;
pub const LEEWAY: i64 = 30;
pub const TTL: i64 = 300;
pub const MIN_REFRESH: i64 = 30;
pub const MAX_STALE: i64 = 900;

/// reqwest is built without a default TLS provider, and building a client needs one even
/// for plain HTTP.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The claims of a valid customer access token at [`NOW`].
pub fn access_claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "exp": NOW + 600, "iat": NOW,
        "jti": "at-1", "client_id": "web-app", "scope": "openid chatbot:access agent:invoke",
        "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
    })
}

/// `access_claims()` with some members replaced (a `null` removes the member).
pub fn access_claims_with(patch: Value) -> Value {
    let mut claims = access_claims();
    let object = claims.as_object_mut().unwrap();
    for (name, value) in patch.as_object().unwrap() {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    claims
}

/// Signs with an arbitrary protected header, exactly as given: for tokens a well-behaved
/// issuer would never produce.
pub fn sign_raw(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        b64::encode(header.to_string()),
        b64::encode(claims.to_string())
    );
    let signature = key.sign(signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", b64::encode(signature))
}

/// A header as the issuer writes it.
pub fn header(key: &SigningKey, typ: &str) -> Value {
    json!({"alg": key.algorithm().as_str(), "typ": typ, "kid": key.kid()})
}

pub fn access_token(key: &SigningKey, claims: &Value) -> String {
    sign_raw(key, &header(key, "at+jwt"), claims)
}

pub fn es256() -> SigningKey {
    SigningKey::generate(Algorithm::Es256).unwrap()
}

/// The access-token validator of Agent B, minus its key source and clock.
pub fn access_validator() -> ValidatorBuilder {
    Validator::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .typ("at+jwt")
        .algorithms(&[Algorithm::Es256])
        .require(&["iat", "jti", "sub", "client_id"])
        .leeway(Duration::from_secs(LEEWAY as u64))
}

/// A validator with a fixed key set and a clock at [`NOW`].
pub fn static_validator(keys: impl Into<KeySource>) -> Validator {
    access_validator()
        .clock(ManualClock::new(NOW))
        .keys(keys)
        .build()
        .unwrap()
}

/// The cache configuration the tests use, on `clock`.
pub fn cache_builder(server: &JwksServer, clock: SharedClock) -> JwksCacheBuilder {
    JwksCache::http(client(), server.url())
        .unwrap()
        .ttl(Duration::from_secs(TTL as u64))
        .min_refresh_interval(Duration::from_secs(MIN_REFRESH as u64))
        .max_stale(Duration::from_secs(MAX_STALE as u64))
        .clock(clock)
}

#[derive(Debug, Default)]
struct ServerState {
    document: Mutex<Value>,
    cache_control: Mutex<Option<String>>,
    delay: Mutex<Option<Duration>>,
    failing: AtomicBool,
    hits: AtomicUsize,
}

/// A JWKS endpoint on a real socket, counting the requests it serves.
#[derive(Debug, Clone)]
pub struct JwksServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
}

impl JwksServer {
    pub async fn start(document: Value) -> Self {
        let state = Arc::new(ServerState {
            document: Mutex::new(document),
            ..ServerState::default()
        });
        let app = Router::new()
            .route("/jwks", get(serve_jwks))
            .route("/moved", get(|| async { Redirect::temporary("/jwks") }))
            .route(
                "/huge",
                get(|| async { format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(70_000)) }),
            )
            .route("/not-json", get(|| async { "<html>not a key set</html>" }))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, state }
    }

    /// Serving the public keys of `keys`.
    pub async fn for_keys(keys: &[&SigningKey]) -> Self {
        Self::start(jwks_of(keys)).await
    }

    pub fn url(&self) -> Url {
        self.url_of("/jwks")
    }

    pub fn url_of(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub fn serve(&self, document: Value) {
        *self.state.document.lock().unwrap() = document;
    }

    pub fn set_cache_control(&self, value: Option<&str>) {
        *self.state.cache_control.lock().unwrap() = value.map(str::to_owned);
    }

    /// Makes every response wait, so concurrent lookups pile up behind one fetch.
    pub fn set_delay(&self, delay: Option<Duration>) {
        *self.state.delay.lock().unwrap() = delay;
    }

    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }
}

pub fn jwks_of(keys: &[&SigningKey]) -> Value {
    tokens::Jwks::new(keys.iter().map(|k| k.public_jwk().clone()).collect()).to_json()
}

async fn serve_jwks(State(state): State<Arc<ServerState>>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let document = state.document.lock().unwrap().clone();
    let mut response = axum::Json(document).into_response();
    if let Some(value) = state.cache_control.lock().unwrap().as_deref() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_str(value).unwrap());
    }
    response
}
