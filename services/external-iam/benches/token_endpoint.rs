//! The token endpoint (code exchange, refresh) and a login, against the real server over HTTP on
//! 127.0.0.1 with a SQLite file, measured from the client side. Client-side work (making a
//! code by SSO, signing DPoP proofs) is done outside the timed section.
//!
//! `cargo bench -p external-iam --bench token_endpoint`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark aborts on failure"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use external_iam::admin::{demo, seed_demo};
use external_iam::auth::password::PasswordHasherPool;
use external_iam::{App, Config, Issuer};
use http::Method;
use reqwest::redirect::Policy;
use tokens::{Clock, DpopKey, Htu, ManualClock, SharedClock};

const SECRET: &str = "bench-web-app-secret-0123456789abcdefghijk";
const REDIRECT: &str = "http://localhost:8080/auth/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct Bench {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    issuer: String,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(1_800_000_000);
        let issuer = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let issuer = format!("http://127.0.0.1:{}", addr.port());
            let db = format!("sqlite://{}", dir.path().join("bench.db").display());
            let config = Config::new(addr, Issuer::parse(&issuer).unwrap(), db);
            let shared: SharedClock = clock.clone();
            let app = App::build_on(listener, config, shared).await.unwrap();
            let state = app.state();
            seed_demo(
                state.pool(),
                &PasswordHasherPool::new().unwrap(),
                SECRET,
                REDIRECT,
                demo::AGENT_B_RESOURCE,
                clock.now(),
            )
            .await
            .unwrap();
            tokio::spawn(app.run_until_stopped(std::future::pending()));
            issuer
        });
        Self {
            rt,
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            issuer,
            clock,
            _dir: dir,
        }
    }

    fn authorize_url(&self) -> String {
        format!(
            "{}/authorize?response_type=code&client_id=web-app&redirect_uri={}&scope=openid%20profile%20chatbot:access%20agent:invoke&state=s&nonce=n&code_challenge={CHALLENGE}&code_challenge_method=S256&resource={}",
            self.issuer,
            url_encode(REDIRECT),
            url_encode(demo::AGENT_B_RESOURCE)
        )
    }

    async fn get(&self, url: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(url);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// A full login; returns the timed part (the two form posts) and the session cookie.
    async fn login(&self) -> (Duration, String) {
        let response = self.get(&self.authorize_url(), None).await;
        let cookie = set_cookie(&response).unwrap();
        let login = format!("{}{}", self.issuer, location(&response));
        let html = self.get(&login, Some(&cookie)).await.text().await.unwrap();
        let (csrf, request) = (hidden(&html, "csrf_token"), hidden(&html, "request"));
        self.clock.advance(30);
        let code = external_iam::mfa::Totp::from_base32(demo::USERS[0].totp_secret)
            .unwrap()
            .code_at(self.clock.now());
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/login", self.issuer))
            .header("cookie", &cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("request", &request),
                ("username", "alice"),
                ("password", demo::USERS[0].password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let response = self
            .http
            .post(format!("{}/login/totp", self.issuer))
            .header("cookie", &cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("request", &request),
                ("code", &code),
            ])
            .send()
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(response.status(), 303);
        (elapsed, set_cookie(&response).unwrap())
    }

    /// A code from the SSO session (no password check).
    async fn code(&self, session: &str) -> String {
        let response = self.get(&self.authorize_url(), Some(session)).await;
        let to = location(&response);
        url::Url::parse(&to)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    }

    async fn token(&self, form: &[(&str, &str)], proof: String) -> (Duration, serde_json::Value) {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/token", self.issuer))
            .basic_auth("web-app", Some(SECRET))
            .header("dpop", proof)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(status, 200, "{body}");
        (elapsed, body)
    }
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn set_cookie(response: &reqwest::Response) -> Option<String> {
    let value = response.headers().get("set-cookie")?.to_str().ok()?;
    Some(value.split(';').next()?.to_owned())
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

fn benches(c: &mut Criterion) {
    let bench = Bench::start();
    let htu = Htu::parse(&format!("{}/token", bench.issuer)).unwrap();
    let key = DpopKey::generate(bench.clock.clone()).unwrap();
    let (_, session) = bench.rt.block_on(bench.login());

    let mut group = c.benchmark_group("external-iam");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(15));

    group.bench_function(
        "token: authorization_code exchange (DPoP, client_secret_basic)",
        |b| {
            b.iter_custom(|iters| {
                bench.rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let code = bench.code(&session).await;
                        let proof = key.proof(&Method::POST, &htu, None, None).unwrap();
                        let form = [
                            ("grant_type", "authorization_code"),
                            ("code", code.as_str()),
                            ("redirect_uri", REDIRECT),
                            ("code_verifier", VERIFIER),
                        ];
                        total += bench.token(&form, proof).await.0;
                    }
                    total
                })
            });
        },
    );

    let first = bench.rt.block_on(async {
        let code = bench.code(&session).await;
        let proof = key.proof(&Method::POST, &htu, None, None).unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ];
        bench.token(&form, proof).await.1
    });
    let mut refresh = first["refresh_token"].as_str().unwrap().to_owned();
    group.bench_function("token: refresh_token rotation (DPoP-bound)", |b| {
        b.iter_custom(|iters| {
            bench.rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let proof = key.proof(&Method::POST, &htu, None, None).unwrap();
                    let (elapsed, body) = bench
                        .token(
                            &[
                                ("grant_type", "refresh_token"),
                                ("refresh_token", refresh.as_str()),
                            ],
                            proof,
                        )
                        .await;
                    refresh = body["refresh_token"].as_str().unwrap().to_owned();
                    total += elapsed;
                }
                total
            })
        });
    });

    group.sample_size(20);
    group.bench_function(
        "login: password (argon2id m=19MiB t=2) + TOTP + code",
        |b| {
            b.iter_custom(|iters| {
                bench.rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += bench.login().await.0;
                    }
                    total
                })
            });
        },
    );
    group.finish();
}

criterion_group!(external_iam, benches);
criterion_main!(external_iam);
