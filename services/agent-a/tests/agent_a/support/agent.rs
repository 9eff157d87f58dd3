//! The system under test: Service A2 and Agent A as the real programs on 127.0.0.1:0, each with
//! its own SQLite database, Agent A reaching Service A2 through the counting relay, and Agent A's
//! token clock under the test's control.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agent_a::audit::{self, AuditEvent, AuditLog};
use agent_a::{App, Config, DatabaseUrl, IamArgs, IdentityArgs, ServiceA2Args};
use storage::Database;
use tempfile::TempDir;
use tokens::ManualClock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};
use wire::Intent;
use wire::grpc::agent_a::v1::agent_a_client::AgentAClient;
use wire::grpc::agent_a::v1::{AccountDataRequest, AccountDataResponse};
use workload_identity::workloads::{AGENT_A, AGENT_B, Workload};
use workload_identity::{ClientAlpn, MtlsConnector, PeerPolicy};

use super::iam::{ISSUER, TestIam};
use super::pki::TestPki;
use super::relay::Relay;

pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// The scope and audience of the service token Agent A requires.
pub const SERVICE_A: &str = "agent-service-a";
pub const CROSS_NS: &str = "cross-namespace:invoke";

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

type Stopper = (
    oneshot::Sender<()>,
    JoinHandle<Result<(), tonic::transport::Error>>,
);

pub struct TestEnv {
    pub pki: TestPki,
    pub iam: TestIam,
    pub relay: Relay,
    pub addr: SocketAddr,
    pub health: SocketAddr,
    /// Agent A's clock for token times.
    pub clock: Arc<ManualClock>,
    db: Database,
    audit: AuditLog,
    agent: Option<Stopper>,
    service_a2: Option<Stopper>,
    _dir: TempDir,
}

impl TestEnv {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// As [`Self::start`], with `adjust` applied to Agent A's configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        telemetry::init_for_tests();
        let pki = TestPki::new();
        let iam = TestIam::start(&pki).await;
        let dir = tempfile::tempdir().unwrap();

        let a2 = service_a2::App::build(service_a2::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: None,
            trust_domain: pki.trust_domain.clone(),
            allowed_peers: Vec::new(),
            identity: service_a2::IdentityArgs {
                pki_dir: pki.dir().to_owned(),
                svid: None,
                svid_key: None,
                bundle: None,
            },
            iam: service_a2::IamArgs {
                issuer: ISSUER.to_owned(),
                jwks_uri: iam.jwks_uri(),
                spiffe_id: None,
                jwks_ttl_secs: 300,
            },
            database_url: service_a2::DatabaseUrl::new(format!(
                "sqlite://{}",
                dir.path().join("a2.db").display()
            )),
            seed: Some(
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/data/service-a2.toml"),
            ),
            worker_threads: 2,
        })
        .await
        .unwrap();
        let relay = Relay::start(a2.local_addr()).await;
        let service_a2 = spawn_until_stopped(|stop| tokio::spawn(a2.run_until_stopped(stop)));

        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: Some("127.0.0.1:0".parse().unwrap()),
            trust_domain: pki.trust_domain.clone(),
            identity: IdentityArgs {
                pki_dir: pki.dir().to_owned(),
                svid: None,
                svid_key: None,
                bundle: None,
            },
            iam: IamArgs {
                issuer: ISSUER.to_owned(),
                jwks_uri: iam.jwks_uri(),
                spiffe_id: None,
                jwks_ttl_secs: 300,
            },
            service_a2: ServiceA2Args {
                url: format!("https://{}", relay.addr).parse().unwrap(),
                spiffe_id: None,
            },
            database_url: DatabaseUrl::new(format!(
                "sqlite://{}",
                dir.path().join("agent-a.db").display()
            )),
            worker_threads: 2,
        };
        adjust(&mut config);
        let clock = ManualClock::new(now());
        let app = App::build_with_clock(config, clock.clone()).await.unwrap();
        let addr = app.local_addr();
        let health = app.health_addr().unwrap();
        let db = app.database().clone();
        let audit = app.audit().clone();
        let agent = spawn_until_stopped(|stop| tokio::spawn(app.run_until_stopped(stop)));
        Self {
            pki,
            iam,
            relay,
            addr,
            health,
            clock,
            db,
            audit,
            agent: Some(agent),
            service_a2: Some(service_a2),
            _dir: dir,
        }
    }

    /// A channel to Agent A presenting `workload`'s SVID.
    pub async fn channel(&self, workload: Workload) -> Channel {
        let tls = workload_identity::client_config(
            self.pki.source(workload),
            PeerPolicy::only(self.pki.id(AGENT_A)),
            ClientAlpn::Grpc,
        )
        .unwrap();
        Endpoint::from_shared(format!("https://{}", self.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .connect_with_connector(MtlsConnector::new(tls))
            .await
            .unwrap()
    }

    pub async fn client(&self, workload: Workload) -> AgentAClient<Channel> {
        AgentAClient::new(self.channel(workload).await)
    }

    /// What Agent B holds for one chat action of `subject`: its service token for Agent A and
    /// the user context for request `request_id`.
    pub async fn agent_b_tokens(&self, subject: &str, request_id: &str) -> (String, String) {
        let service_token = self.iam.service_token(AGENT_B, SERVICE_A, CROSS_NS).await;
        let user_context = self.iam.user_context(AGENT_B, subject, request_id).await;
        (service_token, user_context)
    }

    /// Every audit row so far, oldest first.
    pub async fn audit_rows(&self) -> Vec<AuditEvent> {
        self.audit.flush().await;
        audit::list(&self.db).await.unwrap()
    }

    /// Stops Agent A then Service A2, each gracefully, and fails if either does not stop.
    /// Returns Agent A's database, reopened.
    pub async fn stop(mut self) -> StoppedAgent {
        for (shutdown, task) in [self.agent.take(), self.service_a2.take()]
            .into_iter()
            .flatten()
        {
            let _ = shutdown.send(());
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("a server did not stop")
                .unwrap()
                .unwrap();
        }
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap());
        let url = format!("sqlite://{}", dir.path().join("agent-a.db").display());
        StoppedAgent {
            db: Database::connect(&url).await.unwrap(),
            _dir: dir,
        }
    }
}

/// What is left of Agent A once stopped: its database.
pub struct StoppedAgent {
    pub db: Database,
    _dir: TempDir,
}

fn spawn_until_stopped(
    run: impl FnOnce(
        std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    ) -> JoinHandle<Result<(), tonic::transport::Error>>,
) -> Stopper {
    let (shutdown, stop) = oneshot::channel::<()>();
    let task = run(Box::pin(async {
        let _ = stop.await;
    }));
    (shutdown, task)
}

/// A request as Agent B sends it: the credentials given, and correlation metadata.
pub fn request(
    intent: Intent,
    service_token: Option<&str>,
    user_context: Option<&str>,
    request_id: &str,
) -> Request<AccountDataRequest> {
    let mut request = Request::new(AccountDataRequest {
        intent: intent.into(),
        message: "What is my balance?".to_owned(),
    });
    let metadata = request.metadata_mut();
    metadata.insert("x-request-id", request_id.parse().unwrap());
    metadata.insert("traceparent", MetadataValue::from_static(TRACEPARENT));
    if let Some(token) = service_token {
        metadata.insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    if let Some(token) = user_context {
        metadata.insert("x-user-context", token.parse().unwrap());
    }
    request
}

pub async fn call(
    client: &mut AgentAClient<Channel>,
    request: Request<AccountDataRequest>,
) -> Result<AccountDataResponse, Status> {
    client
        .get_account_data(request)
        .await
        .map(tonic::Response::into_inner)
}

/// A token's payload claims (the token itself is verified by the services under test).
pub fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&tokens::b64::decode(payload).unwrap()).unwrap()
}
