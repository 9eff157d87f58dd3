//! The configuration: every option is a flag and an environment variable (`AGENT_A_*`), with
//! defaults for the local demo.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use http::Uri;
use url::Url;
use workload_identity::{IdentityFiles, SpiffeId, TrustDomain, workloads};

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

/// Where this workload's SVID, key and trust bundle are (reloaded when they change).
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// The dev-PKI directory: `<dir>/agent-a/svid.pem`, `svid.key.pem`, `<dir>/bundle.pem`.
    #[arg(long, env = "AGENT_A_PKI_DIR", default_value = "var/pki")]
    pub pki_dir: PathBuf,
    /// The SVID chain (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "AGENT_A_SVID")]
    pub svid: Option<PathBuf>,
    /// The SVID's private key (PEM PKCS#8), instead of the one in the PKI directory.
    #[arg(long, env = "AGENT_A_SVID_KEY")]
    pub svid_key: Option<PathBuf>,
    /// The trust bundle (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "AGENT_A_BUNDLE")]
    pub bundle: Option<PathBuf>,
}

impl IdentityArgs {
    /// The three files, explicit paths winning over the PKI directory layout.
    pub fn files(&self) -> IdentityFiles {
        let defaults = IdentityFiles::in_pki_dir(&self.pki_dir, workloads::AGENT_A.name());
        IdentityFiles {
            svid: self.svid.clone().unwrap_or(defaults.svid),
            key: self.svid_key.clone().unwrap_or(defaults.key),
            bundle: self.bundle.clone().unwrap_or(defaults.bundle),
        }
    }
}

/// The internal IAM, which issues the service tokens and transaction tokens Agent A accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct IamArgs {
    /// The IAM's issuer identifier; every token's `iss` must equal it exactly.
    #[arg(
        long = "iam-issuer",
        env = "AGENT_A_IAM_ISSUER",
        default_value = "https://localhost:8443"
    )]
    pub issuer: String,
    /// The IAM's JWK Set, fetched over mutual TLS with this workload's SVID.
    #[arg(
        long = "iam-jwks-uri",
        env = "AGENT_A_IAM_JWKS_URI",
        default_value = "https://localhost:8443/jwks.json"
    )]
    pub jwks_uri: Url,
    /// The IAM's SPIFFE ID, the only server the JWKS is fetched from. Default: the internal IAM
    /// of the trust domain, `spiffe://<trust domain>/ns/internal/sa/internal-iam`.
    #[arg(id = "iam_spiffe_id", long = "iam-spiffe-id", env = "AGENT_A_IAM_SPIFFE_ID", value_parser = parse_spiffe_id)]
    pub spiffe_id: Option<SpiffeId>,
    /// How long the IAM's JWK Set is cached, in seconds (also the longest a key the IAM withdrew
    /// stays trusted here).
    #[arg(long = "iam-jwks-ttl-secs", env = "AGENT_A_IAM_JWKS_TTL_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
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
