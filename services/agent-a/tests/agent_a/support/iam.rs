//! The real internal IAM on 127.0.0.1:0, sharing the test's PKI: the source of every service and
//! transaction token the tests present.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use internal_iam::registry::{Audience, ExchangeRight, Grant, Registration, store};
use internal_iam::{
    App, AppHandles, Config, DatabaseArgs, DatabaseUrl, ExternalIamConfig, IdentityConfig,
    Lifetimes,
};
use serde_json::Value;
use tempfile::TempDir;
use tokens::{Clock as _, SystemClock};
use tokio::sync::oneshot;
use workload_identity::workloads::{INTERNAL_IAM, Workload};
use workload_identity::{ClientAlpn, PeerPolicy, TrustDomain};

use super::customer::CustomerIssuer;
use super::pki::TestPki;

/// The IAM's issuer identifier (its `iss`), whatever address it listens on.
pub const ISSUER: &str = "https://localhost:8443";

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const TXN_TOKEN: &str = "urn:ietf:params:oauth:token-type:txn_token";

pub struct TestIam {
    pub addr: SocketAddr,
    pub customers: CustomerIssuer,
    handles: AppHandles,
    pki_dir: PathBuf,
    trust_domain: TrustDomain,
    _shutdown: oneshot::Sender<()>,
    _dir: TempDir,
}

impl TestIam {
    /// The IAM with the shipped registration policy (Agent B may get service tokens for Agent A
    /// and exchange customer tokens).
    pub async fn start(pki: &TestPki) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let customers = CustomerIssuer::start().await;
        let policy =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/policy/internal-iam.toml");
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: None,
            issuer: ISSUER.parse().unwrap(),
            trust_domain: pki.trust_domain.clone(),
            identity: IdentityConfig {
                pki_dir: pki.dir().to_owned(),
                svid: None,
                svid_key: None,
                bundle: None,
            },
            database: DatabaseArgs {
                database_url: DatabaseUrl::new(format!(
                    "sqlite://{}",
                    dir.path().join("iam.db").display()
                )),
            },
            policy: Some(policy),
            external: ExternalIamConfig {
                issuer: customers.issuer.clone(),
                jwks_uri: customers.jwks_uri.clone(),
                ca_file: None,
                allow_plain_http: false,
                jwks_ttl: Duration::from_secs(300),
            },
            lifetimes: Lifetimes::default(),
            key_refresh: Duration::from_secs(3600),
            registry_refresh: Duration::from_secs(3600),
        };
        let app = App::build(config).await.unwrap();
        let addr = app.local_addr();
        let handles = app.handles();
        let (shutdown, stop) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stop.await;
        }));
        Self {
            addr,
            customers,
            handles,
            pki_dir: pki.dir().to_owned(),
            trust_domain: pki.trust_domain.clone(),
            _shutdown: shutdown,
            _dir: dir,
        }
    }

    pub fn jwks_uri(&self) -> url::Url {
        format!("https://{}/jwks.json", self.addr).parse().unwrap()
    }

    /// Replaces (or adds) a registration, effective at once.
    pub async fn register(&self, registration: Registration) {
        store::put(&self.handles.db, &registration, true, SystemClock.now())
            .await
            .unwrap();
        self.handles.registry.refresh_now().await.unwrap();
    }

    /// Registers `workload` for `grants` (audience, scopes) and, if `exchange`, the right to
    /// exchange customer tokens minted for Agent B's API.
    pub async fn register_workload(
        &self,
        workload: Workload,
        grants: &[(&str, &str)],
        exchange: bool,
    ) {
        self.register(Registration {
            spiffe_id: workload.spiffe_id(&self.trust_domain),
            description: format!("test registration of {}", workload.name()),
            grants: grants
                .iter()
                .map(|(audience, scopes)| Grant::new(audience, scopes).unwrap())
                .collect(),
            exchange: exchange.then(|| ExchangeRight {
                subject_audience: Audience::parse(super::customer::AGENT_B_API).unwrap(),
            }),
        })
        .await;
    }

    /// `workload`'s mTLS client for the IAM.
    fn client(&self, workload: Workload) -> reqwest::Client {
        let source = workload_identity::FileSource::load(
            workload_identity::IdentityFiles::in_pki_dir(&self.pki_dir, workload.name()),
        )
        .unwrap();
        let iam = INTERNAL_IAM.spiffe_id(&self.trust_domain);
        let config =
            workload_identity::client_config(source, PeerPolicy::only(iam), ClientAlpn::Http)
                .unwrap();
        reqwest::Client::builder()
            .use_preconfigured_tls((*config).clone())
            .build()
            .unwrap()
    }

    async fn token(&self, workload: Workload, params: &[(&str, &str)], request_id: &str) -> String {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let response = self
            .client(workload)
            .post(format!("https://{}/token", self.addr))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-request-id", request_id)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "the IAM refused {workload:?}: {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A certificate-bound service token for `workload`, as the IAM issues it (client
    /// credentials over mTLS).
    pub async fn service_token(&self, workload: Workload, audience: &str, scope: &str) -> String {
        self.token(
            workload,
            &[
                ("grant_type", "client_credentials"),
                ("audience", audience),
                ("scope", scope),
            ],
            "service-token-request",
        )
        .await
    }

    /// The user context (transaction token) `workload` obtains for `subject` by exchanging the
    /// customer's access token, for request `request_id`.
    pub async fn user_context(
        &self,
        workload: Workload,
        subject: &str,
        request_id: &str,
    ) -> String {
        let subject_token = self.customers.access_token(subject);
        self.token(
            workload,
            &[
                ("grant_type", EXCHANGE),
                ("subject_token", &subject_token),
                ("subject_token_type", ACCESS_TOKEN),
                ("requested_token_type", TXN_TOKEN),
            ],
            request_id,
        )
        .await
    }
}
