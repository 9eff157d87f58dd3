//! The server's configuration: every option is a flag and an environment variable
//! (`INTERNAL_IAM_*`), with defaults for the local demo.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use url::Url;
use workload_identity::{IdentityFiles, TrustDomain, workloads};

use crate::duration::parse_duration;

/// No token this IAM signs lives longer (the design: "never more than 15" minutes). Retired
/// signing keys stay published this long, plus the validators' leeway, after they stop signing.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// How `serve` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address of the mutual-TLS listener.
    #[arg(long, env = "INTERNAL_IAM_LISTEN", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,

    /// Address of an optional plain-HTTP listener that answers only `GET /healthz` (for probes
    /// that cannot present an SVID). Off unless set.
    #[arg(long, env = "INTERNAL_IAM_HEALTH_LISTEN")]
    pub health_listen: Option<SocketAddr>,

    /// This IAM's issuer identifier (`iss` of every token, base of the metadata's URLs): an
    /// https URL without query or fragment.
    #[arg(long, env = "INTERNAL_IAM_ISSUER", default_value = "https://localhost:8443", value_parser = parse_issuer)]
    pub issuer: Url,

    /// The SPIFFE trust domain whose workloads this IAM serves; also the audience of
    /// transaction tokens.
    #[arg(long, env = "INTERNAL_IAM_TRUST_DOMAIN", default_value = workloads::DEV_TRUST_DOMAIN, value_parser = parse_trust_domain)]
    pub trust_domain: TrustDomain,

    #[command(flatten)]
    pub identity: IdentityConfig,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// A registration policy (TOML) to seed into the database at start; the file is
    /// authoritative for the SPIFFE IDs it lists, others are left as they are.
    #[arg(long, env = "INTERNAL_IAM_POLICY")]
    pub policy: Option<PathBuf>,

    #[command(flatten)]
    pub external: ExternalIamConfig,

    #[command(flatten)]
    pub lifetimes: Lifetimes,

    /// How often the signing keys are reloaded from the database (a rotation by `keys rotate`
    /// takes effect within this time).
    #[arg(long, env = "INTERNAL_IAM_KEY_REFRESH", default_value = "5s", value_parser = parse_duration)]
    pub key_refresh: Duration,

    /// How often registrations are reloaded from the database (a change by `registrations add`
    /// or `remove` takes effect within this time).
    #[arg(long, env = "INTERNAL_IAM_REGISTRY_REFRESH", default_value = "5s", value_parser = parse_duration)]
    pub registry_refresh: Duration,
}

/// Where this workload's own SVID, key and trust bundle are (reloaded when they change).
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityConfig {
    /// The dev-PKI directory: `<dir>/internal-iam/svid.pem`, `svid.key.pem`, `<dir>/bundle.pem`.
    #[arg(long, env = "INTERNAL_IAM_PKI_DIR", default_value = "var/pki")]
    pub pki_dir: PathBuf,
    /// The SVID chain (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "INTERNAL_IAM_SVID")]
    pub svid: Option<PathBuf>,
    /// The SVID's private key (PEM PKCS#8), instead of the one in the PKI directory.
    #[arg(long, env = "INTERNAL_IAM_SVID_KEY")]
    pub svid_key: Option<PathBuf>,
    /// The trust bundle (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "INTERNAL_IAM_BUNDLE")]
    pub bundle: Option<PathBuf>,
}

impl IdentityConfig {
    /// The three files, explicit paths winning over the PKI directory layout.
    pub fn files(&self) -> IdentityFiles {
        let defaults = IdentityFiles::in_pki_dir(&self.pki_dir, workloads::INTERNAL_IAM.name());
        IdentityFiles {
            svid: self.svid.clone().unwrap_or(defaults.svid),
            key: self.svid_key.clone().unwrap_or(defaults.key),
            bundle: self.bundle.clone().unwrap_or(defaults.bundle),
        }
    }
}

/// The database every subcommand uses.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user:password@host/db`.
    #[arg(
        long,
        env = "INTERNAL_IAM_DATABASE_URL",
        default_value = "sqlite://var/internal-iam/internal-iam.db"
    )]
    pub database_url: DatabaseUrl,
}

/// The customer-facing identity provider whose access tokens may be exchanged.
#[derive(Debug, Clone, clap::Args)]
pub struct ExternalIamConfig {
    /// The external IAM's issuer identifier; a subject token's `iss` must equal it exactly.
    #[arg(
        id = "external_issuer",
        value_name = "URL",
        long = "external-issuer",
        env = "INTERNAL_IAM_EXTERNAL_ISSUER",
        default_value = "http://localhost:9000"
    )]
    pub issuer: String,
    /// Where the external IAM publishes its JWK Set (https, or http to a loopback address).
    #[arg(
        id = "external_jwks_uri",
        value_name = "URL",
        long = "external-jwks-uri",
        env = "INTERNAL_IAM_EXTERNAL_JWKS_URI",
        default_value = "http://localhost:9000/jwks"
    )]
    pub jwks_uri: Url,
    /// CA certificates (PEM) to trust for an https JWKS URI.
    #[arg(
        id = "external_ca",
        value_name = "FILE",
        long = "external-ca",
        env = "INTERNAL_IAM_EXTERNAL_CA"
    )]
    pub ca_file: Option<PathBuf>,
    /// Allow a plain-http JWKS URI to a non-loopback host: only for a demo whose programs share
    /// one private network (docker compose). Never in production.
    #[arg(
        id = "external_jwks_allow_plain_http",
        long = "external-jwks-allow-plain-http",
        env = "INTERNAL_IAM_EXTERNAL_JWKS_ALLOW_PLAIN_HTTP"
    )]
    pub allow_plain_http: bool,
    /// How long the external IAM's JWK Set is cached before it is fetched again.
    #[arg(id = "external_jwks_ttl",
        value_name = "DURATION", long = "external-jwks-ttl", env = "INTERNAL_IAM_EXTERNAL_JWKS_TTL", default_value = "5m", value_parser = parse_duration)]
    pub jwks_ttl: Duration,
}

/// Token lifetimes.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Lifetimes {
    /// Lifetime of a service token when the request names none.
    #[arg(long = "service-token-lifetime", value_name = "DURATION", env = "INTERNAL_IAM_SERVICE_TOKEN_LIFETIME", default_value = "5m", value_parser = parse_duration)]
    pub service_token: Duration,
    /// The longest service token a request may ask for with `expires_in` (at most 15 minutes).
    #[arg(long = "service-token-max-lifetime", value_name = "DURATION", env = "INTERNAL_IAM_SERVICE_TOKEN_MAX_LIFETIME", default_value = "15m", value_parser = parse_duration)]
    pub service_token_max: Duration,
    /// Lifetime of a transaction token (the draft: short, "minutes or less").
    #[arg(long = "txn-token-lifetime", value_name = "DURATION", env = "INTERNAL_IAM_TXN_TOKEN_LIFETIME", default_value = "60s", value_parser = parse_duration)]
    pub txn_token: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            service_token: Duration::from_secs(300),
            service_token_max: MAX_TOKEN_LIFETIME,
            txn_token: Duration::from_secs(60),
        }
    }
}

impl Lifetimes {
    /// Every lifetime is at least a second, the default within the maximum, and nothing over
    /// [`MAX_TOKEN_LIFETIME`].
    pub fn check(&self) -> Result<(), String> {
        let all = [
            ("service token lifetime", self.service_token),
            ("service token maximum lifetime", self.service_token_max),
            ("transaction token lifetime", self.txn_token),
        ];
        for (name, value) in all {
            if value.is_zero() {
                return Err(format!("the {name} must be at least one second"));
            }
            if value > MAX_TOKEN_LIFETIME {
                return Err(format!(
                    "the {name} of {}s is over the {}s maximum",
                    value.as_secs(),
                    MAX_TOKEN_LIFETIME.as_secs()
                ));
            }
        }
        if self.service_token > self.service_token_max {
            return Err("the service token lifetime is over its own maximum".to_owned());
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

fn parse_issuer(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|error| format!("not a URL: {error}"))?;
    // RFC 8414 §2: the issuer is an https URL with no query or fragment.
    if url.scheme() != "https" {
        return Err("the issuer must be an https URL".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the issuer must have no query or fragment".to_owned());
    }
    if url.host().is_none() {
        return Err("the issuer must name a host".to_owned());
    }
    Ok(url)
}

fn parse_trust_domain(text: &str) -> Result<TrustDomain, String> {
    TrustDomain::new(text).map_err(|error| error.to_string())
}

/// The issuer as it appears in `iss`: without the trailing slash `Url` adds to an empty path.
pub(crate) fn issuer_string(issuer: &Url) -> String {
    issuer.as_str().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_https_without_query_or_fragment() {
        assert!(parse_issuer("https://localhost:8443").is_ok());
        assert!(parse_issuer("https://iam.example/internal").is_ok());
        for bad in [
            "http://localhost:8443",
            "https://localhost:8443/?a=b",
            "https://localhost:8443/#x",
            "localhost",
        ] {
            assert!(parse_issuer(bad).is_err(), "{bad}");
        }
        let issuer = parse_issuer("https://localhost:8443").unwrap();
        assert_eq!(issuer_string(&issuer), "https://localhost:8443");
    }

    #[test]
    fn database_urls_never_print_their_password() {
        let url = DatabaseUrl::new("postgres://iam:hunter2@db/iam");
        assert_eq!(
            format!("{url:?} {url}"),
            "postgres:(redacted) postgres:(redacted)"
        );
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert!(Lifetimes::default().check().is_ok());
        let too_long = Lifetimes {
            service_token_max: Duration::from_secs(901),
            ..Lifetimes::default()
        };
        assert!(too_long.check().unwrap_err().contains("901s"));
        let inverted = Lifetimes {
            service_token: Duration::from_secs(600),
            service_token_max: Duration::from_secs(300),
            ..Lifetimes::default()
        };
        assert!(inverted.check().is_err());
        let zero = Lifetimes {
            txn_token: Duration::ZERO,
            ..Lifetimes::default()
        };
        assert!(zero.check().is_err());
    }
}
