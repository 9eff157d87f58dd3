//! The IAM under test: the real server on 127.0.0.1:0 with its own database, PKI and clock.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use internal_iam::audit::{self, AuditEvent, AuditQuery};
use internal_iam::registry::{Grant, Registration, store};
use internal_iam::{
    App, AppHandles, Config, DatabaseArgs, DatabaseUrl, ExternalIamConfig, IdentityConfig,
    Lifetimes,
};
use serde_json::Value;
use tempfile::TempDir;
use tokens::claims::ServiceTokenClaims;
use tokens::{Algorithm, Clock as _, Jwks, ManualClock, Validator};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use workload_identity::workloads::{AGENT_B, WEB_APP, Workload};
use workload_identity::{TrustDomain, workloads};

use super::issuer::ExternalIssuer;
use super::pki::TestPki;
use super::tls::workload_client;

pub const ISSUER: &str = "https://localhost:8443";
pub const SERVICE_A: &str = "agent-service-a";
pub const CROSS_NS: &str = "cross-namespace:invoke";

pub struct TestIam {
    pub addr: SocketAddr,
    pub pki: TestPki,
    pub clock: Arc<ManualClock>,
    pub handles: AppHandles,
    pub external: ExternalIssuer,
    pub db_url: String,
    pub health: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: TempDir,
}

/// An OAuth error response, read back.
#[derive(Debug)]
pub struct TokenError {
    pub status: u16,
    pub error: String,
    pub description: String,
}

pub fn policy_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/policy/internal-iam.toml")
}

pub fn config(pki: &TestPki, db_url: &str, external: &ExternalIssuer) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        health_listen: Some("127.0.0.1:0".parse().unwrap()),
        issuer: ISSUER.parse().unwrap(),
        trust_domain: TrustDomain::new(workloads::DEV_TRUST_DOMAIN).unwrap(),
        identity: IdentityConfig {
            pki_dir: pki.dir().to_owned(),
            svid: None,
            svid_key: None,
            bundle: None,
        },
        database: DatabaseArgs {
            database_url: DatabaseUrl::new(db_url),
        },
        policy: Some(policy_file()),
        external: ExternalIamConfig {
            issuer: external.issuer.clone(),
            jwks_uri: external.jwks_uri.clone(),
            ca_file: None,
            allow_plain_http: false,
            jwks_ttl: Duration::from_secs(300),
        },
        lifetimes: Lifetimes::default(),
        key_refresh: Duration::from_secs(3600),
        registry_refresh: Duration::from_secs(3600),
    }
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

impl TestIam {
    /// The IAM with the shipped policy (Agent B registered), plus the web app registered for
    /// an audience of its own without the exchange right.
    pub async fn start() -> Self {
        Self::start_on(None).await
    }

    /// As [`Self::start`], on the database at `db_url` (a new SQLite file if `None`).
    pub async fn start_on(db_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pki = TestPki::new();
        let external = ExternalIssuer::start().await;
        let db_url =
            db_url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("iam.db").display()));
        let clock = ManualClock::new(now());
        let app = App::build_with_clock(config(&pki, &db_url, &external), clock.clone())
            .await
            .unwrap();
        let addr = app.local_addr();
        let health = app.health_addr().unwrap();
        let handles = app.handles();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stop.await;
        }));
        let iam = Self {
            addr,
            pki,
            clock,
            handles,
            external,
            db_url,
            health,
            shutdown: Some(shutdown),
            task: Some(task),
            _dir: dir,
        };
        iam.register(Registration {
            spiffe_id: iam.pki.id(WEB_APP),
            description: "test: no exchange right".into(),
            grants: vec![Grant::new("agent-b-api", "chatbot:relay").unwrap()],
            exchange: None,
        })
        .await;
        iam
    }

    pub async fn register(&self, registration: Registration) {
        store::put(&self.handles.db, &registration, true, self.clock.now())
            .await
            .unwrap();
        self.handles.registry.refresh_now().await.unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    pub fn client(&self, workload: Workload) -> reqwest::Client {
        workload_client(&self.pki, workload)
    }

    /// POSTs a form to `/token` with `client`.
    pub async fn post(
        &self,
        client: &reqwest::Client,
        params: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        client
            .post(self.url("/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
    }

    /// A successful token response's JSON, with its headers checked.
    pub async fn token(&self, client: &reqwest::Client, params: &[(&str, &str)]) -> Value {
        let response = self.post(client, params).await.unwrap();
        let status = response.status();
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert!(response.headers().contains_key("x-request-id"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    /// An error response, read back; every refusal says `no-store`.
    pub async fn refused(&self, client: &reqwest::Client, params: &[(&str, &str)]) -> TokenError {
        let response = self.post(client, params).await.unwrap();
        let status = response.status().as_u16();
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        TokenError {
            status,
            error: body["error"].as_str().unwrap().to_owned(),
            description: body["error_description"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Every audit row so far.
    pub async fn audit(&self) -> Vec<AuditEvent> {
        self.handles.audit.flush().await;
        audit::list(&self.handles.db, &AuditQuery::default())
            .await
            .unwrap()
    }

    /// Waits until the audit holds `count` rows (refusals at the TLS handshake are recorded by
    /// the server's handshake task, after the client has already seen the failure).
    pub async fn audit_rows(&self, count: usize) -> Vec<AuditEvent> {
        for _ in 0..500 {
            let rows = self.audit().await;
            if rows.len() >= count {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the audit never reached {count} rows: {:?}",
            self.audit().await
        );
    }

    /// The IAM's JWK Set, fetched over mTLS.
    pub async fn jwks(&self) -> Jwks {
        let body = self
            .client(AGENT_B)
            .get(self.url("/jwks.json"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        Jwks::from_json(&body).unwrap()
    }

    /// A validator for this IAM's tokens of `typ` for `audience`, with its current JWKS.
    pub async fn validator(&self, typ: &str, audience: &str) -> Validator {
        Validator::builder()
            .issuer(ISSUER)
            .audience(audience)
            .typ(typ)
            .algorithms(&[Algorithm::Es256])
            .clock(self.clock.clone())
            .keys(self.jwks().await)
            .build()
            .unwrap()
    }

    /// Verifies a service token for Agent A and returns its claims.
    pub async fn verify_service_token(&self, token: &str) -> ServiceTokenClaims {
        self.validator("at+jwt", SERVICE_A)
            .await
            .validate::<ServiceTokenClaims>(token)
            .await
            .unwrap()
            .into_claims()
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("the IAM did not stop")
                .unwrap();
        }
    }
}
