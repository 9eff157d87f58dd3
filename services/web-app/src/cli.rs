//! Flags and environment variables of the `web-app` binary: every option has both
//! (`--listen` / `WEB_APP_LISTEN`, ...).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;
use workload_identity::{IdentityFiles, SpiffeId, TrustDomain, workloads};

use crate::config::{
    AgentBConfig, Config, ConfigError, DEFAULT_RESOURCE, DatabaseUrl, IamConfig, Issuer, PublicUrl,
    Secret, SessionPolicy,
};

/// The web app: the customer's browser talks to it; it logs customers in at the external IAM
/// and calls Agent B for them.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "web-app", version, about)]
pub struct Cli {
    /// Address of the browser-facing listener (plain HTTP; `/healthz` is served here too).
    #[arg(long, env = "WEB_APP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The origin browsers use, `http(s)://host[:port]`. With `https` the session cookies are
    /// `Secure` and `__Host-` prefixed.
    #[arg(
        long,
        env = "WEB_APP_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_url: String,

    #[command(flatten)]
    pub iam: IamArgs,

    #[command(flatten)]
    pub agent_b: AgentBArgs,

    /// The SPIFFE trust domain of this workload and of Agent B.
    #[arg(long, env = "WEB_APP_TRUST_DOMAIN", default_value = workloads::DEV_TRUST_DOMAIN)]
    pub trust_domain: String,

    #[command(flatten)]
    pub identity: IdentityArgs,

    /// `sqlite://path/to/file.db` (created and migrated on start) or `postgres://...`: where
    /// sessions and the tokens they hold are kept.
    #[arg(
        long,
        env = "WEB_APP_DATABASE_URL",
        default_value = "sqlite://var/web-app/web-app.db",
        hide_env_values = true,
        value_parser = parse_database_url
    )]
    pub database_url: DatabaseUrl,

    /// Absolute session lifetime from login, in seconds.
    #[arg(long, env = "WEB_APP_SESSION_LIFETIME", default_value_t = 8 * 3600)]
    pub session_lifetime: u64,

    /// How long a started login waits for the IAM's callback, in seconds.
    #[arg(long, env = "WEB_APP_LOGIN_TIMEOUT", default_value_t = 600)]
    pub login_timeout: u64,

    /// Refresh the access token when less than this many seconds of it are left.
    #[arg(long, env = "WEB_APP_REFRESH_MARGIN", default_value_t = 60)]
    pub refresh_margin: u64,
}

/// The external IAM and this client's registration there.
#[derive(Debug, Clone, clap::Args)]
pub struct IamArgs {
    /// The OpenID Connect issuer.
    #[arg(long, env = "WEB_APP_ISSUER", default_value = "http://localhost:9000")]
    pub issuer: String,
    /// PEM CA certificates to trust for an `https` issuer.
    #[arg(long, env = "WEB_APP_IAM_CA_FILE")]
    pub iam_ca_file: Option<PathBuf>,
    /// Accept a plain-http issuer on a host that is not loopback (private demo networks only).
    #[arg(long, env = "WEB_APP_ALLOW_PLAIN_HTTP_ISSUER")]
    pub allow_plain_http_issuer: bool,
    /// This client's id at the IAM.
    #[arg(long, env = "WEB_APP_CLIENT_ID", default_value = "web-app")]
    pub client_id: String,
    /// The client secret (`client_secret_basic`). Prefer `--client-secret-file`.
    #[arg(
        long,
        env = "WEB_APP_CLIENT_SECRET",
        hide_env_values = true,
        conflicts_with = "client_secret_file",
        value_parser = parse_secret
    )]
    pub client_secret: Option<Secret>,
    /// A file holding the client secret (trailing newline ignored).
    #[arg(long, env = "WEB_APP_CLIENT_SECRET_FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// The registered redirect URI. Default: `<public URL>/auth/callback`.
    #[arg(long, env = "WEB_APP_REDIRECT_URI")]
    pub redirect_uri: Option<String>,
    /// The registered post-logout redirect URI. Default: `<public URL>/`.
    #[arg(long, env = "WEB_APP_POST_LOGOUT_REDIRECT_URI")]
    pub post_logout_redirect_uri: Option<String>,
    /// The RFC 8707 resource requested: Agent B's API identifier.
    #[arg(long, env = "WEB_APP_RESOURCE", default_value = DEFAULT_RESOURCE)]
    pub resource: String,
    /// Timeout of each request to the IAM, in seconds.
    #[arg(long, env = "WEB_APP_IAM_TIMEOUT", default_value_t = 10)]
    pub iam_timeout: u64,
}

/// Agent B.
#[derive(Debug, Clone, clap::Args)]
pub struct AgentBArgs {
    /// Agent B's chat endpoint (https; mutual TLS).
    #[arg(
        long = "agent-b-url",
        env = "WEB_APP_AGENT_B_URL",
        default_value = "https://localhost:7445/v1/chat"
    )]
    pub url: String,
    /// The only SPIFFE ID accepted as Agent B. Default: the trust domain's
    /// `spiffe://<td>/ns/namespace-b/sa/agent-b`.
    #[arg(long = "agent-b-spiffe-id", env = "WEB_APP_AGENT_B_SPIFFE_ID")]
    pub spiffe_id: Option<String>,
    /// How long one chat call may take, in seconds.
    #[arg(
        long = "agent-b-timeout",
        env = "WEB_APP_AGENT_B_TIMEOUT",
        default_value_t = 30
    )]
    pub timeout: u64,
}

/// Where this workload's SVID, key and trust bundle are.
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// The dev-PKI directory: `<dir>/web-app/svid.pem`, `svid.key.pem`, `<dir>/bundle.pem`.
    #[arg(long, env = "WEB_APP_PKI_DIR", default_value = "var/pki")]
    pub pki_dir: PathBuf,
    /// The SVID chain (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "WEB_APP_SVID")]
    pub svid: Option<PathBuf>,
    /// The SVID's private key (PEM PKCS#8), instead of the one in the PKI directory.
    #[arg(long, env = "WEB_APP_SVID_KEY")]
    pub svid_key: Option<PathBuf>,
    /// The trust bundle (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "WEB_APP_BUNDLE")]
    pub bundle: Option<PathBuf>,
}

impl IdentityArgs {
    fn files(&self) -> IdentityFiles {
        let defaults = IdentityFiles::in_pki_dir(&self.pki_dir, workloads::WEB_APP.name());
        IdentityFiles {
            svid: self.svid.clone().unwrap_or(defaults.svid),
            key: self.svid_key.clone().unwrap_or(defaults.key),
            bundle: self.bundle.clone().unwrap_or(defaults.bundle),
        }
    }
}

/// Why the command line could not become a configuration.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "the client secret is required: set WEB_APP_CLIENT_SECRET_FILE or WEB_APP_CLIENT_SECRET"
    )]
    MissingSecret,
    #[error("cannot read the client secret file {path}: {source}")]
    SecretFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Cli {
    /// The validated configuration (reads the client secret file).
    pub fn config(&self) -> Result<Config, CliError> {
        let public_url = PublicUrl::parse(&self.public_url)?;
        let url = |name: &'static str, text: &str| {
            Url::parse(text).map_err(|error| CliError::Invalid {
                name,
                reason: error.to_string(),
            })
        };
        let trust_domain =
            TrustDomain::new(&self.trust_domain).map_err(|error| CliError::Invalid {
                name: "--trust-domain",
                reason: error.to_string(),
            })?;
        let agent_b_id = match &self.agent_b.spiffe_id {
            Some(text) => SpiffeId::parse(text).map_err(|error| CliError::Invalid {
                name: "--agent-b-spiffe-id",
                reason: error.to_string(),
            })?,
            None => workloads::AGENT_B.spiffe_id(&trust_domain),
        };
        let iam = &self.iam;
        let config = Config {
            listen: self.listen,
            iam: IamConfig {
                issuer: Issuer::parse(&iam.issuer)?,
                ca_file: iam.iam_ca_file.clone(),
                allow_plain_http: iam.allow_plain_http_issuer,
                client_id: iam.client_id.clone(),
                client_secret: self.secret()?,
                redirect_uri: match &iam.redirect_uri {
                    Some(text) => url("--redirect-uri", text)?,
                    None => public_url.join(crate::http::paths::CALLBACK),
                },
                post_logout_redirect_uri: match &iam.post_logout_redirect_uri {
                    Some(text) => url("--post-logout-redirect-uri", text)?,
                    None => public_url.join(crate::http::paths::HOME),
                },
                resource: iam.resource.clone(),
                timeout: Duration::from_secs(iam.iam_timeout),
            },
            agent_b: AgentBConfig {
                chat_url: url("--agent-b-url", &self.agent_b.url)?,
                spiffe_id: agent_b_id,
                timeout: Duration::from_secs(self.agent_b.timeout),
            },
            public_url,
            trust_domain,
            identity: self.identity.files(),
            database_url: self.database_url.clone(),
            sessions: SessionPolicy {
                lifetime: Duration::from_secs(self.session_lifetime),
                login_timeout: Duration::from_secs(self.login_timeout),
                refresh_margin: Duration::from_secs(self.refresh_margin),
            },
        };
        config.validate()?;
        Ok(config)
    }

    fn secret(&self) -> Result<Secret, CliError> {
        match (&self.iam.client_secret, &self.iam.client_secret_file) {
            (Some(secret), _) => Ok(secret.clone()),
            (None, Some(path)) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| CliError::SecretFile {
                        path: path.clone(),
                        source,
                    })?;
                Ok(Secret::new(text.trim_end_matches(['\r', '\n']))?)
            }
            (None, None) => Err(CliError::MissingSecret),
        }
    }
}

fn parse_database_url(text: &str) -> Result<DatabaseUrl, std::convert::Infallible> {
    Ok(DatabaseUrl::new(text))
}

fn parse_secret(text: &str) -> Result<Secret, ConfigError> {
    Secret::new(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn defaults_with_a_secret_make_a_valid_configuration() {
        let cli = Cli::try_parse_from(["web-app", "--client-secret", "abc"]).unwrap();
        let config = cli.config().unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.iam.client_id, "web-app");
        assert_eq!(config.iam.resource, DEFAULT_RESOURCE);
        assert_eq!(
            config.agent_b.chat_url.as_str(),
            "https://localhost:7445/v1/chat"
        );
        assert_eq!(
            config.identity.svid,
            PathBuf::from("var/pki/web-app/svid.pem")
        );
        assert_eq!(config.iam.client_secret.expose(), "abc");
    }

    #[test]
    fn the_secret_is_required_and_read_from_a_file() {
        let cli = Cli::try_parse_from(["web-app"]).unwrap();
        assert!(matches!(cli.config(), Err(CliError::MissingSecret)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let cli = Cli::try_parse_from(["web-app", "--client-secret-file", path.to_str().unwrap()])
            .unwrap();
        assert_eq!(
            cli.config().unwrap().iam.client_secret.expose(),
            "from-file"
        );
        assert!(
            Cli::try_parse_from([
                "web-app",
                "--client-secret",
                "x",
                "--client-secret-file",
                "y"
            ])
            .is_err()
        );
    }

    #[test]
    fn debug_output_of_the_configuration_holds_no_secret() {
        let cli = Cli::try_parse_from([
            "web-app",
            "--client-secret",
            "very-secret-value",
            "--database-url",
            "postgres://u:pw-in-url@db/web",
        ])
        .unwrap();
        let text = format!("{cli:?} {:?}", cli.config().unwrap());
        assert!(!text.contains("very-secret-value"), "{text}");
        assert!(!text.contains("pw-in-url"), "{text}");
    }
}
