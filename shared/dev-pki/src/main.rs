//! `dev-pki`: creates or refreshes the development trust domain in a directory.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use clap::Parser;
use dev_pki::DevPkiConfig;
use workload_identity::TrustDomain;
use workload_identity::workloads::DEV_TRUST_DOMAIN;

/// Creates the development trust domain: a CA and short-lived X.509-SVIDs for web-app,
/// agent-b, agent-a, service-a2 and internal-iam.
///
/// Idempotent: valid material is kept unchanged; missing or invalid material, and SVIDs in the
/// second half of their lifetime, are (re)issued under the same CA. Files are replaced
/// atomically, so running workloads pick up renewed SVIDs without a restart.
///
/// Layout: <dir>/bundle.pem, <dir>/ca.key.pem, <dir>/<workload>/svid.pem and
/// <dir>/<workload>/svid.key.pem (keys are mode 0600). Private keys are never printed.
#[derive(Debug, Parser)]
#[command(name = "dev-pki", version)]
struct Args {
    /// Directory to keep the PKI in; created if missing.
    #[arg(long, default_value = "var/pki")]
    dir: PathBuf,

    /// Trust domain of every SPIFFE ID: lowercase letters, digits, '.', '-' and '_'.
    #[arg(long, default_value = DEV_TRUST_DOMAIN, value_parser = parse_trust_domain)]
    trust_domain: TrustDomain,

    /// Lifetime of each issued SVID, in hours (1 to 720).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=720))]
    svid_ttl_hours: u64,

    /// Reissue every SVID now, even if still valid (rotation); the CA is kept.
    #[arg(long)]
    renew: bool,
}

fn parse_trust_domain(name: &str) -> Result<TrustDomain, String> {
    TrustDomain::new(name).map_err(|error| error.to_string())
}

// The report is this program's output; it names files, SPIFFE IDs and dates, never keys.
#[allow(clippy::print_stdout)]
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = DevPkiConfig::new(&args.dir, args.trust_domain)
        .with_svid_ttl(Duration::from_secs(args.svid_ttl_hours * 3600));
    config.renew = args.renew;
    let report = dev_pki::ensure(&config, SystemTime::now())
        .with_context(|| format!("preparing the dev PKI in {}", args.dir.display()))?;
    print!("{report}");
    Ok(())
}
