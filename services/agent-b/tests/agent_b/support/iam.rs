//! The real internal IAM on 127.0.0.1, with the shipped registration policy (Agent B may get
//! service tokens for Agent A and exchange customer tokens minted for its API). It can be
//! stopped and started again on the same port with the same database, as an outage would.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use internal_iam::audit::{self, AuditQuery, Outcome};
use internal_iam::{
    App, AppHandles, Config, DatabaseArgs, DatabaseUrl, ExternalIamConfig, IdentityConfig,
    Lifetimes,
};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::issuer::CustomerIssuer;
use super::pki::TestPki;

/// The IAM's issuer identifier (its `iss`), whatever address it listens on.
pub const ISSUER: &str = "https://localhost:8443";

pub struct TestIam {
    pub addr: SocketAddr,
    config: Config,
    running: Option<(AppHandles, oneshot::Sender<()>, JoinHandle<()>)>,
    _dir: TempDir,
}

impl TestIam {
    pub async fn start(pki: &TestPki, customers: &CustomerIssuer) -> Self {
        let dir = tempfile::tempdir().unwrap();
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
            policy: Some(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../infra/policy/internal-iam.toml"),
            ),
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
        let mut iam = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            config,
            running: None,
            _dir: dir,
        };
        iam.run().await;
        // Later starts reuse the port: an outage, not a move.
        iam.config.listen = iam.addr;
        iam
    }

    async fn run(&mut self) {
        let app = App::build(self.config.clone()).await.unwrap();
        self.addr = app.local_addr();
        let handles = app.handles();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stop.await;
        }));
        self.running = Some((handles, shutdown, task));
    }

    /// Stops the IAM gracefully and waits until its port is closed.
    pub async fn stop(&mut self) {
        let (_, shutdown, task) = self.running.take().expect("the IAM is running");
        let _ = shutdown.send(());
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the IAM did not stop")
            .unwrap();
    }

    /// Starts the IAM again on the same port, with the same database (keys, registrations,
    /// audit trail).
    pub async fn restart(&mut self) {
        assert!(self.running.is_none(), "stop the IAM first");
        self.run().await;
    }

    pub fn jwks_uri(&self) -> url::Url {
        format!("https://{}/jwks.json", self.addr).parse().unwrap()
    }

    /// How many tokens of `grant_type` the IAM issued, from its audit trail.
    pub async fn issued(&self, grant_type: &str) -> usize {
        let (handles, _, _) = self.running.as_ref().expect("the IAM is running");
        handles.audit.flush().await;
        audit::list(
            &handles.db,
            &AuditQuery {
                grant_type: Some(grant_type.to_owned()),
                outcome: Some(Outcome::Issued),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap()
        .len()
    }

    /// Every audit row, oldest first.
    pub async fn audit_rows(&self) -> Vec<audit::AuditEvent> {
        let (handles, _, _) = self.running.as_ref().expect("the IAM is running");
        handles.audit.flush().await;
        audit::list(&handles.db, &AuditQuery::default())
            .await
            .unwrap()
    }
}
