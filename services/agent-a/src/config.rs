//! The configuration: every option is a flag and an environment variable (`AGENT_A_*`), with
//! defaults for the local demo.

use std::net::SocketAddr;

use http::Uri;
pub use mesh::DatabaseUrl;
use mesh::options::{parse_spiffe_id, parse_trust_domain};
use workload_identity::{SpiffeId, TrustDomain, workloads};

/// How the program runs.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "agent-a",
    version,
    about = "Agent A: account data for Agent B over gRPC on mutual TLS, authorized by a certificate-bound service token and a transaction token."
)]
pub struct Config {
    /// Address of the gRPC mutual-TLS listener.
    #[arg(long, env = "AGENT_A_LISTEN", default_value = "127.0.0.1:7443")]
    pub listen: SocketAddr,

    /// Address of an optional plain-HTTP listener that answers only `GET /healthz` (for probes
    /// that cannot present an SVID). Off unless set.
    #[arg(long, env = "AGENT_A_HEALTH_LISTEN")]
    pub health_listen: Option<SocketAddr>,

    /// The SPIFFE trust domain: the TLS layer admits its workloads only, and transaction tokens
    /// must name it as their audience.
    #[arg(long, env = "AGENT_A_TRUST_DOMAIN", default_value = workloads::DEV_TRUST_DOMAIN, value_parser = parse_trust_domain)]
    pub trust_domain: TrustDomain,

    #[command(flatten)]
    pub identity: IdentityArgs,

    #[command(flatten)]
    pub iam: IamArgs,

    #[command(flatten)]
    pub service_a2: ServiceA2Args,

    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user:password@host/db`:
    /// where the audit trail is kept.
    #[arg(
        long,
        env = "AGENT_A_DATABASE_URL",
        default_value = "sqlite://var/agent-a/agent-a.db"
    )]
    pub database_url: DatabaseUrl,

    /// Worker threads of the runtime. Two serve this workload's load on a small machine and
    /// keep its idle memory low; each thread adds its stack and allocator arenas.
    #[arg(long, env = "AGENT_A_WORKER_THREADS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub worker_threads: u16,
}

mesh::workload_options!(
    env_prefix: "AGENT_A",
    workload: workloads::AGENT_A,
    name: "agent-a",
);

/// Service A2, which Agent A calls within namespace-a.
#[derive(Debug, Clone, clap::Args)]
pub struct ServiceA2Args {
    /// Service A2's gRPC address, `https://host:port` (the connection is mutual TLS; the host is
    /// only dialled and sent as SNI, the server is authenticated by its SPIFFE ID).
    #[arg(
        long = "service-a2-url",
        env = "AGENT_A_SERVICE_A2_URL",
        default_value = "https://localhost:7444",
        value_parser = parse_https_uri
    )]
    pub url: Uri,
    /// The only SPIFFE ID accepted as Service A2. Default: Service A2 of the trust domain,
    /// `spiffe://<trust domain>/ns/namespace-a/sa/service-a2`.
    #[arg(id = "service_a2_spiffe_id", long = "service-a2-spiffe-id", env = "AGENT_A_SERVICE_A2_SPIFFE_ID", value_parser = parse_spiffe_id)]
    pub spiffe_id: Option<SpiffeId>,
}

impl ServiceA2Args {
    pub fn spiffe_id(&self, trust_domain: &TrustDomain) -> SpiffeId {
        self.spiffe_id
            .clone()
            .unwrap_or_else(|| workloads::SERVICE_A2.spiffe_id(trust_domain))
    }
}

impl Config {
    /// Rules no single option can check alone.
    pub fn check(&self) -> Result<(), String> {
        let a2 = self.service_a2.spiffe_id(&self.trust_domain);
        if !a2.is_member_of(&self.trust_domain) {
            return Err(format!(
                "Service A2's SPIFFE ID {a2} is outside the trust domain {}",
                self.trust_domain
            ));
        }
        if self.iam.issuer.is_empty() {
            return Err("the IAM issuer must not be empty".to_owned());
        }
        Ok(())
    }
}

/// `https://host:port`: a plaintext `http` URL would suggest a plaintext channel, which never
/// exists here.
fn parse_https_uri(text: &str) -> Result<Uri, String> {
    let uri: Uri = text
        .parse()
        .map_err(|error| format!("not a URI: {error}"))?;
    if uri.scheme_str() != Some("https") || uri.host().is_none() {
        return Err("Service A2's URL must be https://host[:port]".to_owned());
    }
    if uri
        .path_and_query()
        .is_some_and(|path| path.as_str() != "/")
    {
        return Err("Service A2's URL must have no path or query".to_owned());
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn defaults_name_the_workloads_of_the_trust_domain() {
        let config = Config::try_parse_from(["agent-a"]).unwrap();
        assert!(config.check().is_ok());
        assert_eq!(
            config.service_a2.spiffe_id(&config.trust_domain).as_str(),
            "spiffe://demo.test/ns/namespace-a/sa/service-a2"
        );
        assert_eq!(
            config.iam.spiffe_id(&config.trust_domain).as_str(),
            "spiffe://demo.test/ns/internal/sa/internal-iam"
        );
    }

    #[test]
    fn service_a2_is_dialled_over_https_only() {
        for bad in [
            "http://localhost:7444",
            "localhost:7444",
            "https://a2:7444/x",
        ] {
            assert!(
                Config::try_parse_from(["agent-a", "--service-a2-url", bad]).is_err(),
                "{bad}"
            );
        }
        let config =
            Config::try_parse_from(["agent-a", "--service-a2-url", "https://127.0.0.1:1"]).unwrap();
        assert_eq!(config.service_a2.url.port_u16(), Some(1));
        let outside = Config::try_parse_from([
            "agent-a",
            "--service-a2-spiffe-id",
            "spiffe://other.test/ns/namespace-a/sa/service-a2",
        ])
        .unwrap();
        assert!(
            outside
                .check()
                .unwrap_err()
                .contains("outside the trust domain")
        );
    }

    #[test]
    fn database_urls_never_print_their_password() {
        let url = DatabaseUrl::new("postgres://agent:hunter2@db/agent");
        assert_eq!(
            format!("{url:?} {url}"),
            "postgres:(redacted) postgres:(redacted)"
        );
    }
}
