//! The system under test: the real internal IAM, Service A2, Agent A and Agent B on 127.0.0.1:0,
//! Agent B reaching the IAM and Agent A through counting relays, and Agent B's token clock (also
//! the customer issuer's and the web app's DPoP clock) under the test's control.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agent_b::{AgentAArgs, App, Config, CustomerTokenArgs, IamArgs, IdentityArgs};
use tokens::ManualClock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use workload_identity::workloads::{WEB_APP, Workload};

use super::chain::Chain;
use super::iam::TestIam;
use super::issuer::{AGENT_B_API, CustomerIssuer};
use super::pki::TestPki;
use super::relay::Relay;
use super::web_app::WebApp;

pub struct TestEnv {
    pub pki: TestPki,
    pub clock: Arc<ManualClock>,
    pub issuer: CustomerIssuer,
    pub iam: TestIam,
    pub chain: Chain,
    /// Agent B → internal IAM.
    pub iam_relay: Relay,
    /// Agent B → Agent A.
    pub agent_a_relay: Relay,
    pub addr: SocketAddr,
    pub health: SocketAddr,
    pub chat_url: url::Url,
    agent_b: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
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

impl TestEnv {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// As [`Self::start`], with `adjust` applied to Agent B's configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        telemetry::init_for_tests();
        let pki = TestPki::new();
        let clock = ManualClock::new(now());
        let issuer = CustomerIssuer::start(clock.clone()).await;
        let iam = TestIam::start(&pki, &issuer).await;
        let chain = Chain::start(&pki, &iam).await;
        let iam_relay = Relay::start(iam.addr).await;
        let agent_a_relay = Relay::start(chain.agent_a).await;

        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: Some("127.0.0.1:0".parse().unwrap()),
            public_url: None,
            trust_domain: pki.trust_domain.clone(),
            allowed_callers: Vec::new(),
            identity: IdentityArgs {
                pki_dir: pki.dir().to_owned(),
                svid: None,
                svid_key: None,
                bundle: None,
            },
            customer: CustomerTokenArgs {
                issuer: issuer.issuer.clone(),
                jwks_uri: issuer.jwks_uri.clone(),
                ca_file: None,
                allow_plain_http: false,
                jwks_ttl_secs: 300,
                resource: AGENT_B_API.to_owned(),
            },
            iam: IamArgs {
                token_url: format!("https://{}/token", iam_relay.addr).parse().unwrap(),
                spiffe_id: None,
            },
            agent_a: AgentAArgs {
                url: format!("https://{}", agent_a_relay.addr).parse().unwrap(),
                spiffe_id: None,
            },
            worker_threads: 2,
        };
        adjust(&mut config);
        let app = App::build_with_clock(config, clock.clone()).await.unwrap();
        let addr = app.local_addr();
        let health = app.health_addr().unwrap();
        let chat_url = app.chat_url().clone();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stop.await;
        }));
        Self {
            pki,
            clock,
            issuer,
            iam,
            chain,
            iam_relay,
            agent_a_relay,
            addr,
            health,
            chat_url,
            agent_b: Some((shutdown, task)),
        }
    }

    /// The web app's client (its SVID, a fresh DPoP key).
    pub fn web_app(&self) -> WebApp {
        self.client(WEB_APP)
    }

    /// A client presenting `workload`'s SVID.
    pub fn client(&self, workload: Workload) -> WebApp {
        WebApp::new(
            &self.pki,
            workload,
            self.addr,
            &self.chat_url,
            self.clock.clone(),
        )
    }

    /// A customer token for `subject`, bound to `web`'s DPoP key.
    pub fn token(&self, web: &WebApp, subject: &str) -> String {
        self.issuer.token(subject, &web.jkt())
    }

    /// Stops Agent B and the programs behind it, each gracefully.
    pub async fn stop(mut self) {
        if let Some((shutdown, task)) = self.agent_b.take() {
            let _ = shutdown.send(());
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("Agent B did not stop")
                .unwrap();
        }
        self.chain.stop().await;
        self.iam.stop().await;
    }
}
