//! One test's whole system: IAM, PKI, Agent B and the web app, and the login through the
//! IAM's real forms.

use std::sync::Arc;
use std::time::SystemTime;

use dev_pki::DevPkiConfig;
use http::StatusCode;
use tokens::{ManualClock, SharedClock};
use web_app::config::{DatabaseUrl, Issuer, PublicUrl, Secret};
use web_app::session::{Opaque, Session, store};
use web_app::state::AppState;
use web_app::{App, Config};
use workload_identity::workloads::{self, Workload};
use workload_identity::{FileSource, IdentityFiles, TrustDomain};

use super::agent_b::FakeAgentB;
use super::browser::{Browser, Page, hidden, query_param};
use super::chain::RealChain;
use super::iam::{TestIam, password_of, totp_of};
use super::logs::init;
use super::{SECRET, START};

/// Variations on the default environment.
#[derive(Default)]
pub struct Options {
    /// The IAM requires DPoP nonces at its token endpoint.
    pub iam_nonces: bool,
    /// Agent B requires DPoP nonces.
    pub agent_b_nonces: bool,
    /// Agent B presents this workload's SVID instead of its own.
    pub agent_b_as: Option<Workload>,
    /// Point the web app at an issuer that is down (no IAM listens there).
    pub iam_down: bool,
    /// Call the real Agent B, with the real internal IAM, Agent A and Service A2 behind it,
    /// instead of the small one. The clock then starts near the real time, which the internal
    /// IAM, Agent A and Service A2 judge tokens by.
    pub real_chain: bool,
}

pub struct TestEnv {
    pub clock: Arc<ManualClock>,
    pub iam: TestIam,
    pub agent_b: FakeAgentB,
    /// Kept for its lifetime: dropping it stops the real chain.
    _chain: Option<RealChain>,
    pub web: String,
    pub state: AppState,
    _pki: tempfile::TempDir,
    _db: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestEnv {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        init();
        let clock = ManualClock::new(if options.real_chain {
            // Behind the real time by more than the 30 s each login advances the clock, so
            // the IAM's tokens are never "issued in the future" for the programs on real time.
            real_now() - 120
        } else {
            START
        });
        let shared: SharedClock = clock.clone();

        // The web app's port first: the IAM registers its redirect URI.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let web = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let iam = TestIam::start(
            clock.clone(),
            &format!("{web}/auth/callback"),
            &format!("{web}/"),
            |config| config.dpop_nonces = options.iam_nonces,
        )
        .await;

        let pki = tempfile::tempdir().unwrap();
        let trust_domain = TrustDomain::new(workloads::DEV_TRUST_DOMAIN).unwrap();
        dev_pki::ensure(
            &DevPkiConfig::new(pki.path(), trust_domain.clone()),
            SystemTime::now(),
        )
        .unwrap();
        let source = |workload: Workload| {
            FileSource::load(IdentityFiles::in_pki_dir(pki.path(), workload.name())).unwrap()
        };
        let agent_b = FakeAgentB::start(
            source(options.agent_b_as.unwrap_or(workloads::AGENT_B)),
            workloads::WEB_APP.spiffe_id(&trust_domain),
            &iam.issuer,
            shared.clone(),
            options.agent_b_nonces,
        )
        .await;

        let chain = if options.real_chain {
            Some(RealChain::start(pki.path(), &trust_domain, &iam.issuer, shared.clone()).await)
        } else {
            None
        };
        let chat_url = chain
            .as_ref()
            .map_or_else(|| agent_b.chat_url(), |chain| chain.chat_url.clone());

        let db = tempfile::tempdir().unwrap();
        let issuer = if options.iam_down {
            // A port nothing listens on.
            let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://127.0.0.1:{}", unused.local_addr().unwrap().port())
        } else {
            iam.issuer.clone()
        };
        let config = Config::new(
            PublicUrl::parse(&web).unwrap(),
            Issuer::parse(&issuer).unwrap(),
            Secret::new(SECRET).unwrap(),
            url::Url::parse(&chat_url).unwrap(),
            trust_domain,
            IdentityFiles::in_pki_dir(pki.path(), workloads::WEB_APP.name()),
            DatabaseUrl::new(format!(
                "sqlite://{}",
                db.path().join("web-app.db").display()
            )),
        );
        let app = App::build_on(listener, config, shared).await.unwrap();
        let state = app.state();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            clock,
            iam,
            agent_b,
            _chain: chain,
            web,
            state,
            _pki: pki,
            _db: db,
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.web)
    }

    /// The session a browser's cookie names, read from the web app's store.
    pub async fn session_of(&self, browser: &Browser) -> Option<Session> {
        let cookie = browser.cookie("web_session")?;
        let id = Opaque::presented(&cookie)?;
        store::get_session(self.state.pool(), &id, tokens::Clock::now(&*self.clock))
            .await
            .unwrap()
    }

    /// Steps 1–2: the browser asks for the chat and is sent to the IAM. Returns the
    /// authorization URL and the request id of the login.
    pub async fn start_login(&self, browser: &Browser) -> (String, String) {
        let page = browser.get(&self.url("/chat")).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let authorize = page.location();
        assert!(
            authorize.starts_with(&self.iam.url("/authorize?")),
            "{authorize}"
        );
        (authorize, page.request_id())
    }

    /// Steps 3–5 at the IAM: password, then TOTP (on a fresh time step, so no earlier login
    /// makes the code a replay). Returns the callback URL the IAM redirects to.
    pub async fn sign_in_at_iam(&self, browser: &Browser, authorize: &str, user: &str) -> String {
        let page = browser.get(authorize).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let login = self.iam.url(&page.location());
        if !login.contains("/login?") {
            // Single sign-on: the IAM answered at once.
            return page.location();
        }
        let form = browser.get(&login).await;
        assert_eq!(form.status, StatusCode::OK);
        let page = browser
            .post(
                &self.iam.url("/login"),
                &[
                    ("csrf_token", &hidden(&form.body, "csrf_token")),
                    ("request", &hidden(&form.body, "request")),
                    ("username", user),
                    ("password", password_of(user)),
                ],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "password: {}",
            page.body
        );
        let totp_page = browser.get(&self.iam.url(&page.location())).await;
        assert_eq!(totp_page.status, StatusCode::OK);
        self.clock.advance(30);
        let code = totp_of(user).code_at(tokens::Clock::now(&*self.clock));
        let page = browser
            .post(
                &self.iam.url("/login/totp"),
                &[
                    ("csrf_token", &hidden(&totp_page.body, "csrf_token")),
                    ("request", &hidden(&totp_page.body, "request")),
                    ("code", &code),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "TOTP: {}", page.body);
        let callback = page.location();
        assert!(
            callback.starts_with(&self.url("/auth/callback?")),
            "{callback}"
        );
        callback
    }

    /// The whole login of `user`, ending on the chat page. Returns the login's request id.
    pub async fn login(&self, browser: &Browser, user: &str) -> String {
        let (authorize, request_id) = self.start_login(browser).await;
        let callback = self.sign_in_at_iam(browser, &authorize, user).await;
        let page = browser.get(&callback).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "callback: {}",
            page.body
        );
        assert_eq!(page.location(), "/chat");
        request_id
    }

    /// The chat page's CSRF token.
    pub async fn csrf_token(&self, browser: &Browser) -> String {
        let page = browser.get(&self.url("/chat")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        hidden(&page.body, "csrf_token")
    }

    /// Posts a chat message with the page's CSRF token.
    pub async fn chat(&self, browser: &Browser, message: &str) -> Page {
        let csrf = self.csrf_token(browser).await;
        browser
            .post(
                &self.url("/chat"),
                &[("csrf_token", &csrf), ("message", message)],
            )
            .await
    }
}

fn real_now() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    i64::try_from(elapsed.as_secs()).unwrap()
}

/// The `state` of an authorization URL.
pub fn state_of(authorize: &str) -> String {
    query_param(authorize, "state").unwrap()
}
