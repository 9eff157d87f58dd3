//! What stands behind Agent B: the real Service A2 (seeded with the demo records) and the real
//! Agent A on 127.0.0.1:0, each with its own SQLite database, both validating tokens against the
//! test's internal IAM.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::iam::{ISSUER, TestIam};
use super::pki::TestPki;

type Stopper = (
    oneshot::Sender<()>,
    JoinHandle<Result<(), tonic::transport::Error>>,
);

pub struct Chain {
    /// Agent A's gRPC address.
    pub agent_a: SocketAddr,
    servers: Vec<Stopper>,
    _dir: TempDir,
}

impl Chain {
    pub async fn start(pki: &TestPki, iam: &TestIam) -> Self {
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
                dir.path().join("service-a2.db").display()
            )),
            seed: Some(
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/data/service-a2.toml"),
            ),
            worker_threads: 2,
        })
        .await
        .unwrap();
        let a2_addr = a2.local_addr();
        let service_a2 = spawn(|stop| tokio::spawn(a2.run_until_stopped(stop)));

        let agent = agent_a::App::build(agent_a::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: None,
            trust_domain: pki.trust_domain.clone(),
            identity: agent_a::IdentityArgs {
                pki_dir: pki.dir().to_owned(),
                svid: None,
                svid_key: None,
                bundle: None,
            },
            iam: agent_a::IamArgs {
                issuer: ISSUER.to_owned(),
                jwks_uri: iam.jwks_uri(),
                spiffe_id: None,
                jwks_ttl_secs: 300,
            },
            service_a2: agent_a::ServiceA2Args {
                url: format!("https://{a2_addr}").parse().unwrap(),
                spiffe_id: None,
            },
            database_url: agent_a::DatabaseUrl::new(format!(
                "sqlite://{}",
                dir.path().join("agent-a.db").display()
            )),
            worker_threads: 2,
        })
        .await
        .unwrap();
        let agent_a = agent.local_addr();
        let agent = spawn(|stop| tokio::spawn(agent.run_until_stopped(stop)));
        Self {
            agent_a,
            servers: vec![agent, service_a2],
            _dir: dir,
        }
    }

    /// Stops Agent A, then Service A2, each gracefully.
    pub async fn stop(&mut self) {
        for (shutdown, task) in self.servers.drain(..) {
            let _ = shutdown.send(());
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("a server did not stop")
                .unwrap()
                .unwrap();
        }
    }
}

fn spawn(
    run: impl FnOnce(
        Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> JoinHandle<Result<(), tonic::transport::Error>>,
) -> Stopper {
    let (shutdown, stop) = oneshot::channel::<()>();
    let task = run(Box::pin(async {
        let _ = stop.await;
    }));
    (shutdown, task)
}
