//! The configuration: every option is a flag and an environment variable (`SERVICE_A2_*`), with
//! defaults for the local demo.

use std::net::SocketAddr;
use std::path::PathBuf;

pub use mesh::DatabaseUrl;
use mesh::options::{parse_spiffe_id, parse_trust_domain};
use workload_identity::{SpiffeId, TrustDomain, workloads};

/// How the program runs.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "service-a2",
    version,
    about = "Service A2: the customers' records over gRPC on mutual TLS, for allow-listed peers."
)]
pub struct Config {
    /// Address of the gRPC mutual-TLS listener.
    #[arg(long, env = "SERVICE_A2_LISTEN", default_value = "127.0.0.1:7444")]
    pub listen: SocketAddr,

    /// Address of an optional plain-HTTP listener that answers only `GET /healthz` (for probes
    /// that cannot present an SVID). Off unless set.
    #[arg(long, env = "SERVICE_A2_HEALTH_LISTEN")]
    pub health_listen: Option<SocketAddr>,

    /// The SPIFFE trust domain: the TLS layer admits its workloads only, and transaction tokens
    /// must name it as their audience.
    #[arg(long, env = "SERVICE_A2_TRUST_DOMAIN", default_value = workloads::DEV_TRUST_DOMAIN, value_parser = parse_trust_domain)]
    pub trust_domain: TrustDomain,

    /// SPIFFE IDs allowed to call (comma-separated). Default: Agent A of the trust domain,
    /// `spiffe://<trust domain>/ns/namespace-a/sa/agent-a`.
    #[arg(long = "allowed-peers", env = "SERVICE_A2_ALLOWED_PEERS", value_delimiter = ',', value_parser = parse_spiffe_id)]
    pub allowed_peers: Vec<SpiffeId>,

    #[command(flatten)]
    pub identity: IdentityArgs,

    #[command(flatten)]
    pub iam: IamArgs,

    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user:password@host/db`.
    #[arg(
        long,
        env = "SERVICE_A2_DATABASE_URL",
        default_value = "sqlite://var/service-a2/service-a2.db"
    )]
    pub database_url: DatabaseUrl,

    /// A data file (TOML) to seed at start, e.g. `infra/data/service-a2.toml`; authoritative for
    /// the accounts it lists. Without it the database is served as it is.
    #[arg(long, env = "SERVICE_A2_SEED")]
    pub seed: Option<PathBuf>,

    /// Worker threads of the runtime. Two serve this workload's load on a small machine and
    /// keep its idle memory low; each thread adds its stack and allocator arenas.
    #[arg(long, env = "SERVICE_A2_WORKER_THREADS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub worker_threads: u16,
}

mesh::workload_options!(
    env_prefix: "SERVICE_A2",
    workload: workloads::SERVICE_A2,
    name: "service-a2",
);

impl Config {
    /// The allow-list, with its default applied.
    pub fn allowed_peers(&self) -> Vec<SpiffeId> {
        if self.allowed_peers.is_empty() {
            vec![workloads::AGENT_A.spiffe_id(&self.trust_domain)]
        } else {
            self.allowed_peers.clone()
        }
    }

    /// Rules no single option can check alone.
    pub fn check(&self) -> Result<(), String> {
        // A peer of another trust domain never completes a handshake, so listing one is a
        // mistake that would only look like a working allow-list.
        if let Some(outsider) = self
            .allowed_peers()
            .iter()
            .find(|peer| !peer.is_member_of(&self.trust_domain))
        {
            return Err(format!(
                "the allowed peer {outsider} is outside the trust domain {}",
                self.trust_domain
            ));
        }
        if self.iam.issuer.is_empty() {
            return Err("the IAM issuer must not be empty".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from([&["service-a2"], args].concat()).unwrap()
    }

    #[test]
    fn defaults_allow_agent_a_of_the_trust_domain_only() {
        let config = parse(&[]);
        assert_eq!(
            config.allowed_peers(),
            [SpiffeId::parse("spiffe://demo.test/ns/namespace-a/sa/agent-a").unwrap()]
        );
        assert!(config.check().is_ok());
        assert_eq!(
            config.iam.spiffe_id(&config.trust_domain).as_str(),
            "spiffe://demo.test/ns/internal/sa/internal-iam"
        );
    }

    #[test]
    fn the_allow_list_is_a_comma_separated_list_within_the_trust_domain() {
        let config = parse(&[
            "--allowed-peers",
            "spiffe://demo.test/ns/a/sa/x,spiffe://demo.test/ns/a/sa/y",
        ]);
        assert_eq!(config.allowed_peers().len(), 2);
        let outside = parse(&["--allowed-peers", "spiffe://other.test/ns/a/sa/x"]);
        assert!(
            outside
                .check()
                .unwrap_err()
                .contains("outside the trust domain")
        );
        assert!(Config::try_parse_from(["service-a2", "--allowed-peers", "agent-a"]).is_err());
    }

    #[test]
    fn database_urls_never_print_their_password() {
        let url = DatabaseUrl::new("postgres://a2:hunter2@db/a2");
        assert_eq!(
            format!("{url:?} {url}"),
            "postgres:(redacted) postgres:(redacted)"
        );
    }
}
