//! The real Service A2 on 127.0.0.1:0, with its own SQLite database, a manual clock for token
//! times, and gRPC clients that dial it as any workload of the test PKI.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use service_a2::{App, Config, DatabaseUrl, IamArgs, IdentityArgs};
use tempfile::TempDir;
use tokens::ManualClock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};
use wire::Intent;
use wire::grpc::service_a2::v1::service_a2_client::ServiceA2Client;
use wire::grpc::service_a2::v1::{RecordsRequest, RecordsResponse};
use workload_identity::workloads::{SERVICE_A2, Workload};
use workload_identity::{ClientAlpn, IdentitySource, MtlsConnector, PeerPolicy};

use super::iam::{ISSUER, TestIam};
use super::pki::TestPki;

pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

pub fn seed_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/data/service-a2.toml")
}

pub fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

pub fn config(pki: &TestPki, iam: &TestIam, database: &str, seed: Option<PathBuf>) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        health_listen: Some("127.0.0.1:0".parse().unwrap()),
        trust_domain: pki.trust_domain.clone(),
        allowed_peers: Vec::new(),
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
        database_url: DatabaseUrl::new(database),
        seed,
        worker_threads: 2,
    }
}

pub struct TestA2 {
    pub addr: SocketAddr,
    pub health: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub pki: TestPki,
    pub iam: TestIam,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
    _dir: TempDir,
}

impl TestA2 {
    /// A PKI, the IAM, and Service A2 seeded with the shipped data file.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// As [`Self::start`], with `adjust` applied to the configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        telemetry::init_for_tests();
        let pki = TestPki::new();
        let iam = TestIam::start(&pki).await;
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("a2.db").display());
        let clock = ManualClock::new(now());
        let mut config = config(&pki, &iam, &database, Some(seed_file()));
        adjust(&mut config);
        let app = App::build_with_clock(config, clock.clone()).await.unwrap();
        let addr = app.local_addr();
        let health = app.health_addr().unwrap();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stop.await;
        }));
        Self {
            addr,
            health,
            clock,
            pki,
            iam,
            shutdown: Some(shutdown),
            task: Some(task),
            _dir: dir,
        }
    }

    /// A client presenting `workload`'s SVID.
    pub async fn client(&self, workload: Workload) -> ServiceA2Client<Channel> {
        self.client_as(self.pki.source(workload)).await
    }

    /// A client presenting the identity of `source`, which accepts only Service A2.
    pub async fn client_as(&self, source: Arc<dyn IdentitySource>) -> ServiceA2Client<Channel> {
        ServiceA2Client::new(self.channel_as(source).await.unwrap())
    }

    /// A channel presenting the identity of `source`, or the error of opening it.
    pub async fn channel_as(
        &self,
        source: Arc<dyn IdentitySource>,
    ) -> Result<Channel, tonic::transport::Error> {
        let tls = workload_identity::client_config(
            source,
            PeerPolicy::only(self.pki.id(SERVICE_A2)),
            ClientAlpn::Grpc,
        )
        .unwrap();
        Endpoint::from_shared(format!("https://{}", self.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .connect_with_connector(MtlsConnector::new(tls))
            .await
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("Service A2 did not stop")
                .unwrap()
                .unwrap();
        }
    }
}

/// A request for `intent` as Agent A sends it: the user context (if any) and the correlation
/// metadata.
pub fn request(intent: Intent, user_context: Option<&str>) -> Request<RecordsRequest> {
    let mut request = Request::new(RecordsRequest {
        intent: intent.into(),
    });
    let metadata = request.metadata_mut();
    metadata.insert(
        "x-request-id",
        MetadataValue::from_static("a2-test-request-0001"),
    );
    metadata.insert("traceparent", MetadataValue::from_static(TRACEPARENT));
    if let Some(token) = user_context {
        metadata.insert("x-user-context", token.parse().unwrap());
    }
    request
}

/// The call's outcome.
pub async fn get(
    client: &mut ServiceA2Client<Channel>,
    request: Request<RecordsRequest>,
) -> Result<RecordsResponse, Status> {
    client
        .get_records(request)
        .await
        .map(tonic::Response::into_inner)
}
