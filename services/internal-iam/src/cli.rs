//! The `internal-iam` command line: `serve`, and the admin subcommands that act on the database
//! directly (a running server sees their changes within its refresh intervals).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use storage::Database;
use storage::signing_keys::{KeyState, KeyStore};
use tokens::{Clock as _, SystemClock};
use workload_identity::{TrustDomain, workloads};

use crate::MIGRATOR;
use crate::audit::{self, AuditQuery, Outcome};
use crate::config::{Config, DatabaseArgs, MAX_TOKEN_LIFETIME};
use crate::duration::parse_duration;
use crate::registry::policy;
use crate::registry::store;
use crate::registry::{Audience, ExchangeRight, Grant, Registration, parse_spiffe_id};

#[derive(Debug, clap::Parser)]
#[command(
    name = "internal-iam",
    version,
    about = "The trust domain's token service: service tokens and transaction tokens for workloads, over mutual TLS."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve the token endpoint, metadata and JWKS over mutual TLS.
    Serve(Box<Config>),
    /// Seed registrations from a policy file (idempotent).
    Seed(SeedArgs),
    /// Add, list or remove registrations.
    #[command(subcommand)]
    Registrations(RegistrationsCommand),
    /// Rotate or list signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// The trust domain registrations must belong to.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustDomainArg {
    #[arg(long, env = "INTERNAL_IAM_TRUST_DOMAIN", default_value = workloads::DEV_TRUST_DOMAIN, value_parser = |text: &str| TrustDomain::new(text).map_err(|error| error.to_string()))]
    pub trust_domain: TrustDomain,
}

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// The policy file (TOML), e.g. infra/policy/internal-iam.toml.
    #[arg(long, env = "INTERNAL_IAM_POLICY")]
    pub policy: PathBuf,
    #[command(flatten)]
    pub trust_domain: TrustDomainArg,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum RegistrationsCommand {
    /// Register a workload.
    Add(AddArgs),
    /// List every registration.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Remove a workload's registration.
    Remove {
        /// The workload's SPIFFE ID.
        spiffe_id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The workload's SPIFFE ID.
    pub spiffe_id: String,
    /// An audience and the scopes the workload may request for it: `AUDIENCE=SCOPE[ SCOPE...]`.
    /// Repeat for several audiences.
    #[arg(long = "grant")]
    pub grants: Vec<String>,
    /// Give the workload the exchange right for customer tokens carrying this audience.
    #[arg(long)]
    pub exchange_audience: Option<String>,
    #[arg(long, default_value = "")]
    pub description: String,
    /// Overwrite an existing registration of the same SPIFFE ID.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub trust_domain: TrustDomainArg,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Publish a new signing key now; it signs after the delay. Choose a delay at least as long
    /// as validators cache the JWKS (5 minutes by default), so they all hold the key first.
    Rotate {
        #[arg(long, default_value = "10m", value_parser = parse_duration)]
        delay: Duration,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the keys and their states.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Print audit rows, oldest first.
    List(AuditListArgs),
}

#[derive(Debug, clap::Args)]
pub struct AuditListArgs {
    /// Only rows recorded at or after this time (seconds since the epoch).
    #[arg(long)]
    pub since: Option<i64>,
    #[arg(long)]
    pub spiffe_id: Option<String>,
    /// `issued` or `refused`.
    #[arg(long)]
    pub outcome: Option<Outcome>,
    /// `client_credentials` or `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[arg(long)]
    pub grant_type: Option<String>,
    #[arg(long)]
    pub request_id: Option<String>,
    /// The newest N rows only.
    #[arg(long)]
    pub limit: Option<u32>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Runs an admin subcommand (anything but `serve`), writing its output to `out`.
pub async fn run_admin(command: Command, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => anyhow::bail!("serve is not an admin subcommand"),
        Command::Seed(args) => {
            let registrations = policy::read(&args.policy, &args.trust_domain.trust_domain)?;
            let db = open(&args.database).await?;
            let count = policy::seed(&db, &registrations, SystemClock.now()).await?;
            writeln!(
                out,
                "seeded {count} registration(s) from {}",
                args.policy.display()
            )?;
        }
        Command::Registrations(RegistrationsCommand::Add(args)) => {
            let registration = registration_from(&args)?;
            let db = open(&args.database).await?;
            store::put(&db, &registration, args.replace, SystemClock.now()).await?;
            writeln!(out, "registered {}", registration.spiffe_id)?;
        }
        Command::Registrations(RegistrationsCommand::List { database }) => {
            let db = open(&database).await?;
            for registration in store::list(&db).await? {
                print_registration(out, &registration)?;
            }
        }
        Command::Registrations(RegistrationsCommand::Remove {
            spiffe_id,
            database,
        }) => {
            let spiffe_id = parse_spiffe_id(&spiffe_id)?;
            let db = open(&database).await?;
            if store::remove(&db, &spiffe_id).await? {
                writeln!(out, "removed {spiffe_id}")?;
            } else {
                anyhow::bail!("{spiffe_id} is not registered");
            }
        }
        Command::Keys(KeysCommand::Rotate { delay, database }) => {
            let store = key_store(&database).await?;
            let key = store.rotate(delay).await?;
            writeln!(
                out,
                "staged {} ({}): published now, signing from {} (in {}s)",
                key.kid,
                key.alg,
                key.active_from,
                delay.as_secs()
            )?;
        }
        Command::Keys(KeysCommand::List { database }) => {
            let store = key_store(&database).await?;
            for key in store.list().await? {
                let until = match key.state {
                    KeyState::Retired { published_until } => {
                        format!(" published_until={published_until}")
                    }
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "{} {} {} created_at={} active_from={}{until}",
                    key.kid,
                    key.alg,
                    key.state.label(),
                    key.created_at,
                    key.active_from
                )?;
            }
        }
        Command::Audit(AuditCommand::List(args)) => {
            let db = open(&args.database).await?;
            let query = AuditQuery {
                since: args.since,
                spiffe_id: args.spiffe_id,
                outcome: args.outcome,
                grant_type: args.grant_type,
                request_id: args.request_id,
                limit: args.limit,
            };
            for event in audit::list(&db, &query).await? {
                if args.json {
                    writeln!(out, "{}", serde_json::to_string(&event)?)?;
                } else {
                    print_event(out, &event)?;
                }
            }
        }
    }
    Ok(())
}

async fn open(database: &DatabaseArgs) -> anyhow::Result<Database> {
    let db = Database::connect(database.database_url.expose())
        .await
        .with_context(|| format!("opening the database {}", database.database_url))?;
    db.migrate(&MIGRATOR).await?;
    Ok(db)
}

async fn key_store(database: &DatabaseArgs) -> anyhow::Result<KeyStore> {
    let db = open(database).await?;
    Ok(KeyStore::new(
        db,
        std::sync::Arc::new(SystemClock),
        MAX_TOKEN_LIFETIME,
    ))
}

fn registration_from(args: &AddArgs) -> anyhow::Result<Registration> {
    let registration = Registration {
        spiffe_id: parse_spiffe_id(&args.spiffe_id)?,
        description: args.description.clone(),
        grants: args
            .grants
            .iter()
            .map(|grant| Grant::from_arg(grant))
            .collect::<Result<_, _>>()?,
        exchange: args
            .exchange_audience
            .as_deref()
            .map(Audience::parse)
            .transpose()?
            .map(|subject_audience| ExchangeRight { subject_audience }),
    };
    registration.validate(&args.trust_domain.trust_domain)?;
    Ok(registration)
}

fn print_registration(out: &mut dyn Write, registration: &Registration) -> std::io::Result<()> {
    let grants: Vec<String> = registration
        .grants
        .iter()
        .map(|grant| format!("{}=[{}]", grant.audience, grant.scope_list()))
        .collect();
    let exchange = registration
        .exchange
        .as_ref()
        .map_or("-".to_owned(), |right| right.subject_audience.to_string());
    writeln!(
        out,
        "{} grants={} exchange={} {}",
        registration.spiffe_id,
        if grants.is_empty() {
            "-".to_owned()
        } else {
            grants.join(",")
        },
        exchange,
        registration.description
    )
}

fn print_event(out: &mut dyn Write, event: &audit::AuditEvent) -> std::io::Result<()> {
    let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    writeln!(
        out,
        "{} {} grant={} spiffe_id={} aud={} scope={:?} jti={} sub={} error={} request_id={}: {}",
        event.recorded_at,
        event.outcome,
        show(&event.grant_type),
        show(&event.spiffe_id),
        show(&event.audience),
        show(&event.scope),
        show(&event.jti),
        show(&event.subject),
        show(&event.error),
        show(&event.request_id),
        event.reason
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory as _, Parser as _};

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_has_working_defaults() {
        let cli = Cli::try_parse_from(["internal-iam", "serve"]).unwrap();
        let Command::Serve(config) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(config.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(config.issuer.as_str(), "https://localhost:8443/");
        assert_eq!(config.external.issuer, "http://localhost:9000");
        assert_eq!(config.lifetimes.service_token, Duration::from_secs(300));
        assert_eq!(config.lifetimes.txn_token, Duration::from_secs(60));
    }
}
