//! Flags and environment variables of the `external-iam` binary: every option has both
//! (`--listen` / `EXTERNAL_IAM_LISTEN`, ...).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigError, Issuer};

/// The customer-facing OpenID Connect provider. Without a subcommand it serves.
#[derive(Debug, Parser)]
#[command(
    name = "external-iam",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command needs.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// The issuer identifier: the public base URL of this provider.
    #[arg(
        long,
        env = "EXTERNAL_IAM_ISSUER",
        default_value = "http://localhost:9000",
        global = true
    )]
    pub issuer: String,
    /// `sqlite://PATH` (created and migrated on start) or `postgres://...`.
    #[arg(
        long,
        env = "EXTERNAL_IAM_DATABASE_URL",
        default_value = "sqlite://var/external-iam/external-iam.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,
    /// Access-token lifetime in seconds (at most 900). Also bounds how long a retired signing key
    /// stays published.
    #[arg(
        long,
        env = "EXTERNAL_IAM_ACCESS_TOKEN_LIFETIME",
        default_value_t = 600,
        global = true
    )]
    pub access_token_lifetime: u64,
}

/// Options of the server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "EXTERNAL_IAM_LISTEN", default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,
    /// ID-token lifetime in seconds.
    #[arg(long, env = "EXTERNAL_IAM_ID_TOKEN_LIFETIME", default_value_t = 300)]
    pub id_token_lifetime: u64,
    /// Lifetime of each refresh token, in seconds.
    #[arg(long, env = "EXTERNAL_IAM_REFRESH_TOKEN_LIFETIME", default_value_t = 8 * 3600)]
    pub refresh_token_lifetime: u64,
    /// Absolute lifetime of a chain of refresh tokens from one login, in seconds.
    #[arg(long, env = "EXTERNAL_IAM_REFRESH_FAMILY_LIFETIME", default_value_t = 24 * 3600)]
    pub refresh_family_lifetime: u64,
    /// Single sign-on session lifetime, in seconds.
    #[arg(long, env = "EXTERNAL_IAM_SESSION_LIFETIME", default_value_t = 8 * 3600)]
    pub session_lifetime: u64,
    /// How often signing keys are reloaded from the database, in seconds.
    #[arg(long, env = "EXTERNAL_IAM_KEY_REFRESH", default_value_t = 5)]
    pub key_refresh: u64,
    /// Require server-issued nonces in DPoP proofs at the token endpoint (RFC 9449 §8).
    #[arg(long, env = "EXTERNAL_IAM_DPOP_NONCES", default_value_t = false)]
    pub dpop_nonces: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve (the default).
    Serve,
    /// Manage customer accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage registered clients.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Create (or reset) the demo users alice, bob and carol, the web-app client and Agent B's
    /// resource. Development only: the passwords and TOTP secrets are public.
    SeedDemo {
        /// The web app's client secret (default: the documented dev secret).
        #[arg(long, env = "EXTERNAL_IAM_WEB_APP_SECRET", hide_env_values = true)]
        web_app_secret: Option<String>,
        /// A file holding the web app's client secret.
        #[arg(
            long,
            env = "EXTERNAL_IAM_WEB_APP_SECRET_FILE",
            conflicts_with = "web_app_secret"
        )]
        web_app_secret_file: Option<PathBuf>,
        /// The web app's redirect URI.
        #[arg(long, env = "EXTERNAL_IAM_WEB_APP_REDIRECT_URI", default_value = crate::admin::demo::WEB_APP_REDIRECT_URI)]
        web_app_redirect_uri: String,
        /// Agent B's API identifier (the resource and access-token audience).
        #[arg(long, env = "EXTERNAL_IAM_AGENT_B_RESOURCE", default_value = crate::admin::demo::AGENT_B_RESOURCE)]
        agent_b_resource: String,
    },
    /// TOTP helpers.
    #[command(subcommand)]
    Totp(TotpCommand),
    /// Print the audit trail.
    Audit,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a customer; prints the otpauth:// URI to scan. The password is read from
    /// EXTERNAL_IAM_USER_PASSWORD, or from the first line of standard input.
    Add {
        username: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// A scope the customer may be granted beyond openid/profile/email (repeatable).
        #[arg(long = "entitle")]
        entitlements: Vec<String>,
    },
    /// Set a customer's password (read like `add`).
    SetPassword { username: String },
    /// Give a customer a new TOTP secret and print its otpauth:// URI.
    ResetTotp { username: String },
    /// List customers.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register (or replace) a client. A `client_secret_basic` client's secret is generated and
    /// printed once.
    Add {
        client_id: String,
        /// client_secret_basic, private_key_jwt or none (public).
        #[arg(long, default_value = "client_secret_basic")]
        auth_method: String,
        /// An exact redirect URI (repeatable).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// An exact post-logout redirect URI (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A scope the client may request (repeatable).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// An RFC 8707 resource the client may request (repeatable).
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// The client's JWK Set (for private_key_jwt).
        #[arg(long)]
        jwks_file: Option<PathBuf>,
    },
    /// List clients.
    List,
    /// Remove a client.
    Remove { client_id: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new signing key: published now, signing after the delay.
    Rotate {
        /// Seconds before the new key signs; give validators' JWKS caches time to see it.
        #[arg(long, env = "EXTERNAL_IAM_ROTATION_DELAY", default_value_t = 600)]
        delay: u64,
    },
    /// List signing keys and their state.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TotpCommand {
    /// DEVELOPMENT ONLY: print a customer's current TOTP code from the stored secret, as their
    /// authenticator app would show it. Anyone who can run this can bypass the second factor.
    Now { username: String },
}

impl Cli {
    /// The server configuration these flags describe.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let issuer = Issuer::parse(&self.common.issuer)?;
        let mut config = Config::new(self.serve.listen, issuer, self.common.database_url.clone());
        config.access_token_lifetime = Duration::from_secs(self.common.access_token_lifetime);
        config.id_token_lifetime = Duration::from_secs(self.serve.id_token_lifetime);
        config.refresh_token_lifetime = Duration::from_secs(self.serve.refresh_token_lifetime);
        config.refresh_family_lifetime = Duration::from_secs(self.serve.refresh_family_lifetime);
        config.session_lifetime = Duration::from_secs(self.serve.session_lifetime);
        config.key_refresh_interval = Duration::from_secs(self.serve.key_refresh);
        config.dpop_nonces = self.serve.dpop_nonces;
        config.validate()?;
        Ok(config)
    }
}
