//! The real programs behind the web app, for the full path of a chat request: Agent B, the
//! internal IAM (with the shipped registration policy, validating customer tokens against the
//! test's external IAM), Agent A and Service A2 (seeded with the demo records), each on
//! 127.0.0.1:0 with its own database, all on the test's dev PKI.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use tempfile::TempDir;
use tokens::SharedClock;
use tokio::sync::oneshot;
use workload_identity::TrustDomain;

use super::RESOURCE;

/// The internal IAM's issuer identifier (its `iss`), whatever address it listens on.
const INTERNAL_ISSUER: &str = "https://localhost:8443";

pub struct RealChain {
    /// Agent B's chat URL, the `htu` its proofs must name.
    pub chat_url: String,
    stops: Vec<oneshot::Sender<()>>,
    _dir: TempDir,
}

fn infra(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../infra")
        .join(path)
}

fn stopper() -> (
    oneshot::Sender<()>,
    Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    (
        stop,
        Box::pin(async {
            let _ = stopped.await;
        }),
    )
}

impl RealChain {
    /// Starts the chain. `clock` is Agent B's token clock, the one the external IAM and the web
    /// app use; the internal IAM, Agent A and Service A2 use the real time, so the test clock
    /// must stay close to it.
    pub async fn start(
        pki: &Path,
        trust_domain: &TrustDomain,
        external_issuer: &str,
        clock: SharedClock,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        let mut stops = Vec::new();

        let iam = internal_iam::App::build(internal_iam::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: None,
            issuer: INTERNAL_ISSUER.parse().unwrap(),
            trust_domain: trust_domain.clone(),
            identity: internal_iam::IdentityConfig {
                pki_dir: pki.to_owned(),
                svid: None,
                svid_key: None,
                bundle: None,
            },
            database: internal_iam::DatabaseArgs {
                database_url: internal_iam::DatabaseUrl::new(sqlite("internal-iam.db")),
            },
            policy: Some(infra("policy/internal-iam.toml")),
            external: internal_iam::ExternalIamConfig {
                issuer: external_issuer.to_owned(),
                jwks_uri: format!("{external_issuer}/jwks").parse().unwrap(),
                ca_file: None,
                allow_plain_http: false,
                jwks_ttl: Duration::from_secs(300),
            },
            lifetimes: internal_iam::Lifetimes::default(),
            key_refresh: Duration::from_secs(3600),
            registry_refresh: Duration::from_secs(3600),
        })
        .await
        .unwrap();
        let iam_addr = iam.local_addr();
        let jwks_uri: url::Url = format!("https://{iam_addr}/jwks.json").parse().unwrap();
        let (stop, stopped) = stopper();
        stops.push(stop);
        tokio::spawn(iam.run_until_stopped(stopped));

        let a2 = service_a2::App::build(service_a2::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: None,
            trust_domain: trust_domain.clone(),
            allowed_peers: Vec::new(),
            identity: service_a2::IdentityArgs {
                pki_dir: pki.to_owned(),
                svid: None,
                svid_key: None,
                bundle: None,
            },
            iam: service_a2::IamArgs {
                issuer: INTERNAL_ISSUER.to_owned(),
                jwks_uri: jwks_uri.clone(),
                spiffe_id: None,
                jwks_ttl_secs: 300,
            },
            database_url: service_a2::DatabaseUrl::new(sqlite("service-a2.db")),
            seed: Some(infra("data/service-a2.toml")),
            worker_threads: 2,
        })
        .await
        .unwrap();
        let a2_addr = a2.local_addr();
        let (stop, stopped) = stopper();
        stops.push(stop);
        tokio::spawn(a2.run_until_stopped(stopped));

        let agent_a = agent_a::App::build(agent_a::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: None,
            trust_domain: trust_domain.clone(),
            identity: agent_a::IdentityArgs {
                pki_dir: pki.to_owned(),
                svid: None,
                svid_key: None,
                bundle: None,
            },
            iam: agent_a::IamArgs {
                issuer: INTERNAL_ISSUER.to_owned(),
                jwks_uri,
                spiffe_id: None,
                jwks_ttl_secs: 300,
            },
            service_a2: agent_a::ServiceA2Args {
                url: format!("https://{a2_addr}").parse().unwrap(),
                spiffe_id: None,
            },
            database_url: agent_a::DatabaseUrl::new(sqlite("agent-a.db")),
            worker_threads: 2,
        })
        .await
        .unwrap();
        let agent_a_addr = agent_a.local_addr();
        let (stop, stopped) = stopper();
        stops.push(stop);
        tokio::spawn(agent_a.run_until_stopped(stopped));

        let agent_b = agent_b::App::build_with_clock(
            agent_b::Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                health_listen: None,
                public_url: None,
                trust_domain: trust_domain.clone(),
                allowed_callers: Vec::new(),
                identity: agent_b::IdentityArgs {
                    pki_dir: pki.to_owned(),
                    svid: None,
                    svid_key: None,
                    bundle: None,
                },
                customer: agent_b::CustomerTokenArgs {
                    issuer: external_issuer.to_owned(),
                    jwks_uri: format!("{external_issuer}/jwks").parse().unwrap(),
                    ca_file: None,
                    allow_plain_http: false,
                    jwks_ttl_secs: 300,
                    resource: RESOURCE.to_owned(),
                },
                iam: agent_b::IamArgs {
                    token_url: format!("https://{iam_addr}/token").parse().unwrap(),
                    spiffe_id: None,
                },
                agent_a: agent_b::AgentAArgs {
                    url: format!("https://{agent_a_addr}").parse().unwrap(),
                    spiffe_id: None,
                },
                worker_threads: 2,
            },
            clock,
        )
        .await
        .unwrap();
        let chat_url = agent_b.chat_url().to_string();
        let (stop, stopped) = stopper();
        stops.push(stop);
        tokio::spawn(agent_b.run_until_stopped(stopped));
        Self {
            chat_url,
            stops,
            _dir: dir,
        }
    }
}

impl Drop for RealChain {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}
