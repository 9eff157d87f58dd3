//! A real provider on 127.0.0.1:0 with its own SQLite file, a manual clock, the demo data, and
//! a scripted browser that fills in the real login forms.

use std::sync::{Arc, Mutex, Once};

use external_iam::admin::{demo, seed_demo};
use external_iam::auth::password::PasswordHasherPool;
use external_iam::mfa::Totp;
use external_iam::state::Shared;
use external_iam::{App, Config, Issuer};
use http::{HeaderMap, Method, StatusCode, header};
use reqwest::redirect::Policy;
use tokens::{DpopKey, Htu, ManualClock, SharedClock};
use url::Url;

pub const WEB_APP: &str = demo::WEB_APP_CLIENT_ID;
pub const SECRET: &str = "test-web-app-secret-0123456789abcdefghijkl";
pub const REDIRECT: &str = "http://localhost:8080/auth/callback";
pub const RESOURCE: &str = demo::AGENT_B_RESOURCE;
/// A realistic "now" for the manual clock.
pub const START: i64 = 1_800_000_000;

/// Step events of every test, as JSON lines (tests filter them by request id).
pub static STEPS: std::sync::LazyLock<Capture> = std::sync::LazyLock::new(Capture::default);

pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let subscriber = telemetry::subscriber(
            "external-iam",
            telemetry::LogFormat::Json,
            "step=info",
            STEPS.clone(),
        )
        .unwrap();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// A `MakeWriter` that keeps every line written.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// The step events logged for `request_id`.
    pub fn for_request(&self, request_id: &str) -> Vec<telemetry::StepEvent> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter_map(|line| telemetry::StepEvent::from_json_line(line).ok().flatten())
            .filter(|event| event.request_id == request_id)
            .collect()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

pub fn http_client() -> reqwest::Client {
    init();
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A running provider.
pub struct TestServer {
    pub issuer: String,
    pub state: Arc<Shared>,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        init();
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let issuer = format!("http://127.0.0.1:{}", addr.port());
        let db = format!("sqlite://{}", dir.path().join("iam.db").display());
        let mut config = Config::new(addr, Issuer::parse(&issuer).unwrap(), db);
        adjust(&mut config);
        let clock = ManualClock::new(START);
        let shared: SharedClock = clock.clone();
        let app = App::build_on(listener, config, shared).await.unwrap();
        let state = app.state();
        let hasher = PasswordHasherPool::new().unwrap();
        seed_demo(state.pool(), &hasher, SECRET, REDIRECT, RESOURCE, START)
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            issuer,
            state,
            clock,
            http: http_client(),
            _dir: dir,
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    pub fn token_htu(&self) -> Htu {
        Htu::parse(&self.url("/token")).unwrap()
    }

    pub fn dpop_key(&self) -> DpopKey {
        DpopKey::generate(self.clock.clone()).unwrap()
    }

    /// The audit events recorded so far, as (event, reason).
    pub async fn audit(&self) -> Vec<(String, Option<String>)> {
        external_iam::store::audit::list(self.state.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|row| (row.event, row.reason))
            .collect()
    }

    pub async fn audit_has(&self, event: &str) -> bool {
        self.audit().await.iter().any(|(e, _)| e == event)
    }

    /// A fresh browser.
    pub fn browser(&self) -> Browser {
        Browser {
            http: self.http.clone(),
            issuer: self.issuer.clone(),
            cookie: Mutex::new(None),
            clock: self.clock.clone(),
            request_id: Mutex::new(None),
        }
    }

    /// An authorization request URL for the web app with sensible defaults; `extra` adds or
    /// (with an empty value) removes parameters.
    pub fn authorize_url(&self, challenge: &str, extra: &[(&str, &str)]) -> String {
        let mut params: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", WEB_APP),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile chatbot:access agent:invoke"),
            ("state", "state-123"),
            ("nonce", "nonce-456"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("resource", RESOURCE),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (name, value) in extra {
            params.retain(|(k, _)| k != name);
            if !value.is_empty() {
                params.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        let mut url = Url::parse(&self.url("/authorize")).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        url.to_string()
    }

    /// Logs `user` in through the forms and returns the authorization code for `verifier`.
    pub async fn code_for(
        &self,
        user: &str,
        verifier: &Verifier,
        extra: &[(&str, &str)],
    ) -> String {
        let browser = self.browser();
        let callback = browser
            .login(&self.authorize_url(&verifier.challenge, extra), user)
            .await;
        query_param(&callback, "code").expect("the callback carries a code")
    }

    /// POSTs a form to the token endpoint as the web app (HTTP Basic), with an optional proof.
    pub async fn token_request(
        &self,
        form: &[(&str, &str)],
        dpop: Option<&DpopKey>,
    ) -> reqwest::Response {
        self.token_request_as(Some((WEB_APP, SECRET)), form, dpop)
            .await
    }

    pub async fn token_request_as(
        &self,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
        dpop: Option<&DpopKey>,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url("/token")).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        if let Some(key) = dpop {
            let proof = key
                .proof(&Method::POST, &self.token_htu(), None, None)
                .unwrap();
            request = request.header("DPoP", proof);
        }
        request.send().await.unwrap()
    }

    /// Redeems `code` with DPoP; returns the JSON response (asserting 200).
    pub async fn redeem(
        &self,
        code: &str,
        verifier: &Verifier,
        dpop: &DpopKey,
    ) -> serde_json::Value {
        let response = self
            .token_request(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier.verifier),
                ],
                Some(dpop),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

/// A PKCE verifier and its S256 challenge.
pub struct Verifier {
    pub verifier: String,
    pub challenge: String,
}

impl Verifier {
    pub fn new() -> Self {
        use ring::rand::SecureRandom as _;
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
        let verifier = tokens::b64::encode(bytes);
        let challenge = tokens::b64::encode(ring::digest::digest(
            &ring::digest::SHA256,
            verifier.as_bytes(),
        ));
        Self {
            verifier,
            challenge,
        }
    }
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The demo TOTP secret of `user`.
pub fn totp_of(user: &str) -> Totp {
    let demo = demo::USERS.iter().find(|u| u.username == user).unwrap();
    Totp::from_base32(demo.totp_secret).unwrap()
}

pub fn password_of(user: &str) -> &'static str {
    demo::USERS
        .iter()
        .find(|u| u.username == user)
        .unwrap()
        .password
}

/// A browser: follows nothing by itself, keeps the session cookie, fills in forms.
pub struct Browser {
    pub http: reqwest::Client,
    pub issuer: String,
    pub cookie: Mutex<Option<String>>,
    pub clock: Arc<ManualClock>,
    /// Sent as `X-Request-Id` on every request when set.
    pub request_id: Mutex<Option<String>>,
}

/// A rendered form's hidden fields.
pub struct Form {
    pub csrf_token: String,
    pub request: String,
}

impl Browser {
    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.issuer)
        } else {
            url.to_owned()
        }
    }

    fn remember(&self, headers: &HeaderMap) {
        for value in headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            assert_eq!(name, "iam_session");
            *self.cookie.lock().unwrap() = (!value.is_empty()).then(|| pair.to_owned());
        }
    }

    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        let mut request = self.http.get(self.absolute(url));
        if let Some(id) = self.request_id.lock().unwrap().clone() {
            request = request.header("x-request-id", id);
        }
        if let Some(cookie) = self.cookie() {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        self.remember(response.headers());
        response
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.post(self.absolute(url)).form(form);
        if let Some(id) = self.request_id.lock().unwrap().clone() {
            request = request.header("x-request-id", id);
        }
        if let Some(cookie) = self.cookie() {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        self.remember(response.headers());
        response
    }

    /// GETs a page and reads its form's hidden fields.
    pub async fn form(&self, url: &str) -> (String, Form) {
        let response = self.get(url).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        let html = response.text().await.unwrap();
        let form = Form {
            csrf_token: hidden(&html, "csrf_token"),
            request: hidden(&html, "request"),
        };
        (html, form)
    }

    /// Starts at `authorize_url` and returns the `/login` URL it redirects to.
    pub async fn start(&self, authorize_url: &str) -> String {
        let response = self.get(authorize_url).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "authorize should redirect to the login page"
        );
        let login = location(&response);
        assert!(login.starts_with("/login?request="), "{login}");
        login
    }

    /// Submits username and password on `login_url`; returns the response.
    pub async fn submit_password(
        &self,
        login_url: &str,
        user: &str,
        password: &str,
    ) -> reqwest::Response {
        let (_, form) = self.form(login_url).await;
        self.post(
            "/login",
            &[
                ("csrf_token", &form.csrf_token),
                ("request", &form.request),
                ("username", user),
                ("password", password),
            ],
        )
        .await
    }

    /// Submits a TOTP code on the page at `totp_url`.
    pub async fn submit_totp(&self, totp_url: &str, code: &str) -> reqwest::Response {
        let (_, form) = self.form(totp_url).await;
        self.post(
            "/login/totp",
            &[
                ("csrf_token", &form.csrf_token),
                ("request", &form.request),
                ("code", code),
            ],
        )
        .await
    }

    /// The whole login: password, then the current TOTP code (after moving the clock to a fresh
    /// time step, so earlier logins of the same user do not make this code a replay). Returns the
    /// callback URL.
    pub async fn login(&self, authorize_url: &str, user: &str) -> String {
        let login = self.start(authorize_url).await;
        let response = self.submit_password(&login, user, password_of(user)).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "password accepted"
        );
        let totp_url = location(&response);
        self.clock.advance(30);
        let code = totp_of(user).code_at(tokens::Clock::now(&*self.clock));
        let response = self.submit_totp(&totp_url, &code).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "TOTP accepted");
        location(&response)
    }
}

/// The value of a hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// Asserts an OAuth JSON error: status and `error`.
pub async fn assert_oauth_error(
    response: reqwest::Response,
    status: StatusCode,
    error: &str,
) -> String {
    assert_eq!(response.status(), status, "status for {error}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    body["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts an authorization error redirect to the client: `error`, `state`, `iss`.
pub fn assert_error_redirect(response: &reqwest::Response, issuer: &str, error: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(response);
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some(error), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), Some("state-123"));
    assert_eq!(query_param(&to, "iss").as_deref(), Some(issuer));
    assert!(query_param(&to, "code").is_none());
}
