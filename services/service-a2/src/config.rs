//! The configuration: every option is a flag and an environment variable (`SERVICE_A2_*`), with
//! defaults for the local demo.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use url::Url;
use workload_identity::{IdentityFiles, SpiffeId, TrustDomain, workloads};

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

/// Where this workload's SVID, key and trust bundle are (reloaded when they change).
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// The dev-PKI directory: `<dir>/service-a2/svid.pem`, `svid.key.pem`, `<dir>/bundle.pem`.
    #[arg(long, env = "SERVICE_A2_PKI_DIR", default_value = "var/pki")]
    pub pki_dir: PathBuf,
    /// The SVID chain (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "SERVICE_A2_SVID")]
    pub svid: Option<PathBuf>,
    /// The SVID's private key (PEM PKCS#8), instead of the one in the PKI directory.
    #[arg(long, env = "SERVICE_A2_SVID_KEY")]
    pub svid_key: Option<PathBuf>,
    /// The trust bundle (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "SERVICE_A2_BUNDLE")]
    pub bundle: Option<PathBuf>,
}

impl IdentityArgs {
    /// The three files, explicit paths winning over the PKI directory layout.
    pub fn files(&self) -> IdentityFiles {
        let defaults = IdentityFiles::in_pki_dir(&self.pki_dir, workloads::SERVICE_A2.name());
        IdentityFiles {
            svid: self.svid.clone().unwrap_or(defaults.svid),
            key: self.svid_key.clone().unwrap_or(defaults.key),
            bundle: self.bundle.clone().unwrap_or(defaults.bundle),
        }
    }
}

/// The internal IAM, whose transaction tokens name the customer.
#[derive(Debug, Clone, clap::Args)]
pub struct IamArgs {
    /// The IAM's issuer identifier; a transaction token's `iss` must equal it exactly.
    #[arg(
        long = "iam-issuer",
        env = "SERVICE_A2_IAM_ISSUER",
        default_value = "https://localhost:8443"
    )]
    pub issuer: String,
    /// The IAM's JWK Set, fetched over mutual TLS with this workload's SVID.
    #[arg(
        long = "iam-jwks-uri",
        env = "SERVICE_A2_IAM_JWKS_URI",
        default_value = "https://localhost:8443/jwks.json"
    )]
    pub jwks_uri: Url,
    /// The IAM's SPIFFE ID, the only server the JWKS is fetched from. Default: the internal IAM
    /// of the trust domain, `spiffe://<trust domain>/ns/internal/sa/internal-iam`.
    #[arg(long = "iam-spiffe-id", env = "SERVICE_A2_IAM_SPIFFE_ID", value_parser = parse_spiffe_id)]
    pub spiffe_id: Option<SpiffeId>,
    /// How long the IAM's JWK Set is cached, in seconds (also the longest a key the IAM withdrew
    /// stays trusted here).
    #[arg(long = "iam-jwks-ttl-secs", env = "SERVICE_A2_IAM_JWKS_TTL_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub jwks_ttl_secs: u64,
}

impl IamArgs {
    pub fn jwks_ttl(&self) -> Duration {
        Duration::from_secs(self.jwks_ttl_secs)
    }

    pub fn spiffe_id(&self, trust_domain: &TrustDomain) -> SpiffeId {
        self.spiffe_id
            .clone()
            .unwrap_or_else(|| workloads::INTERNAL_IAM.spiffe_id(trust_domain))
    }
}

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

/// A database URL; `Debug` and `Display` show the scheme only, since the rest may hold a
/// password.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL itself, for connecting. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.0.split_once(':').map_or("?", |(scheme, _)| scheme);
        write!(f, "{scheme}:(redacted)")
    }
}

fn parse_trust_domain(text: &str) -> Result<TrustDomain, String> {
    TrustDomain::new(text).map_err(|error| error.to_string())
}

fn parse_spiffe_id(text: &str) -> Result<SpiffeId, String> {
    SpiffeId::parse(text).map_err(|error| error.to_string())
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
