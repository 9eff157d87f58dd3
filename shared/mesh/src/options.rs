//! The options every mTLS workload of namespace-a takes: where its identity files are, and how it
//! reaches the internal IAM's keys. Each program keeps its own environment-variable prefix
//! (`AGENT_A_*`, `SERVICE_A2_*`), which clap's derive takes only as an expression written into the
//! attribute: hence a macro that writes the two option groups into the program's own module.

use std::fmt;
use std::str::FromStr;

use workload_identity::{SpiffeId, TrustDomain};

/// Defines `IdentityArgs` and `IamArgs` (clap argument groups, flattened into the program's
/// `Config`) in the calling module.
///
/// `env_prefix` is the program's environment-variable prefix without the trailing `_`,
/// `workload` its [`workload_identity::workloads`] entry and `name` that workload's name as a
/// literal (for the help text).
///
/// The calling crate depends on `clap` (with `derive` and `env`).
#[macro_export]
macro_rules! workload_options {
    (env_prefix: $prefix:literal, workload: $workload:expr, name: $name:literal $(,)?) => {
        /// Where this workload's SVID, key and trust bundle are (reloaded when they change).
        #[derive(Debug, Clone, clap::Args)]
        pub struct IdentityArgs {
            // Written as `help` rather than a doc comment: clap reads only literal doc comments.
            #[arg(
                long,
                env = concat!($prefix, "_PKI_DIR"),
                default_value = "var/pki",
                help = concat!("The dev-PKI directory: `<dir>/", $name, "/svid.pem`, `svid.key.pem`, `<dir>/bundle.pem`")
            )]
            pub pki_dir: ::std::path::PathBuf,
            /// The SVID chain (PEM), instead of the one in the PKI directory.
            #[arg(long, env = concat!($prefix, "_SVID"))]
            pub svid: Option<::std::path::PathBuf>,
            /// The SVID's private key (PEM PKCS#8), instead of the one in the PKI directory.
            #[arg(long, env = concat!($prefix, "_SVID_KEY"))]
            pub svid_key: Option<::std::path::PathBuf>,
            /// The trust bundle (PEM), instead of the one in the PKI directory.
            #[arg(long, env = concat!($prefix, "_BUNDLE"))]
            pub bundle: Option<::std::path::PathBuf>,
        }

        impl IdentityArgs {
            /// The three files, explicit paths winning over the PKI directory layout.
            pub fn files(&self) -> $crate::__private::IdentityFiles {
                let defaults =
                    $crate::__private::IdentityFiles::in_pki_dir(&self.pki_dir, $workload.name());
                $crate::__private::IdentityFiles {
                    svid: self.svid.clone().unwrap_or(defaults.svid),
                    key: self.svid_key.clone().unwrap_or(defaults.key),
                    bundle: self.bundle.clone().unwrap_or(defaults.bundle),
                }
            }
        }

        /// The internal IAM, which issues the tokens this workload accepts.
        #[derive(Debug, Clone, clap::Args)]
        pub struct IamArgs {
            /// The IAM's issuer identifier; every token's `iss` must equal it exactly.
            #[arg(
                long = "iam-issuer",
                env = concat!($prefix, "_IAM_ISSUER"),
                default_value = "https://localhost:8443"
            )]
            pub issuer: String,
            /// The IAM's JWK Set, fetched over mutual TLS with this workload's SVID.
            #[arg(
                long = "iam-jwks-uri",
                env = concat!($prefix, "_IAM_JWKS_URI"),
                default_value = "https://localhost:8443/jwks.json"
            )]
            pub jwks_uri: $crate::__private::Url,
            /// The IAM's SPIFFE ID, the only server the JWKS is fetched from. Default: the internal IAM
            /// of the trust domain, `spiffe://<trust domain>/ns/internal/sa/internal-iam`.
            // An explicit id: a program may have other `spiffe_id` options (Agent A's Service A2).
            #[arg(id = "iam_spiffe_id", value_name = "SPIFFE_ID", long = "iam-spiffe-id", env = concat!($prefix, "_IAM_SPIFFE_ID"), value_parser = $crate::options::parse_spiffe_id)]
            pub spiffe_id: Option<$crate::__private::SpiffeId>,
            /// How long the IAM's JWK Set is cached, in seconds (also the longest a key the IAM withdrew
            /// stays trusted here).
            #[arg(long = "iam-jwks-ttl-secs", env = concat!($prefix, "_IAM_JWKS_TTL_SECS"), default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
            pub jwks_ttl_secs: u64,
        }

        impl IamArgs {
            pub fn jwks_ttl(&self) -> ::std::time::Duration {
                ::std::time::Duration::from_secs(self.jwks_ttl_secs)
            }

            pub fn spiffe_id(
                &self,
                trust_domain: &$crate::__private::TrustDomain,
            ) -> $crate::__private::SpiffeId {
                self.spiffe_id.clone().unwrap_or_else(|| {
                    $crate::__private::workloads::INTERNAL_IAM.spiffe_id(trust_domain)
                })
            }
        }
    };
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

/// A clap value parser for a trust domain.
pub fn parse_trust_domain(text: &str) -> Result<TrustDomain, String> {
    TrustDomain::new(text).map_err(|error| error.to_string())
}

/// A clap value parser for a SPIFFE ID.
pub fn parse_spiffe_id(text: &str) -> Result<SpiffeId, String> {
    SpiffeId::parse(text).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    mod options {
        use workload_identity::workloads;
        crate::workload_options!(env_prefix: "MESH_TEST", workload: workloads::AGENT_A, name: "agent-a");
    }

    #[derive(Debug, clap::Parser)]
    struct Config {
        #[command(flatten)]
        identity: options::IdentityArgs,
        #[command(flatten)]
        iam: options::IamArgs,
    }

    #[test]
    fn defaults_follow_the_pki_layout_and_name_the_internal_iam() {
        let config = Config::try_parse_from(["test"]).unwrap();
        let files = config.identity.files();
        assert!(
            files.svid.ends_with("var/pki/agent-a/svid.pem"),
            "{files:?}"
        );
        assert!(files.bundle.ends_with("var/pki/bundle.pem"), "{files:?}");
        let trust_domain = TrustDomain::new("demo.test").unwrap();
        assert_eq!(
            config.iam.spiffe_id(&trust_domain).as_str(),
            "spiffe://demo.test/ns/internal/sa/internal-iam"
        );
        assert_eq!(config.iam.jwks_ttl().as_secs(), 300);
    }

    #[test]
    fn options_are_bounded_and_parsed() {
        for bad in [
            ["test", "--iam-jwks-ttl-secs", "0"],
            ["test", "--iam-jwks-ttl-secs", "3601"],
            ["test", "--iam-spiffe-id", "internal-iam"],
            ["test", "--iam-jwks-uri", "not a url"],
        ] {
            assert!(Config::try_parse_from(bad).is_err(), "{bad:?}");
        }
        let config = Config::try_parse_from(["test", "--svid", "/x/svid.pem"]).unwrap();
        assert_eq!(config.identity.files().svid.to_str(), Some("/x/svid.pem"));
    }

    #[test]
    fn every_option_has_help_and_the_program_s_environment_variable() {
        use clap::CommandFactory as _;
        let command = Config::command();
        for arg in command
            .get_arguments()
            .filter(|arg| arg.get_long().is_some())
        {
            let id = arg.get_id();
            if id == "help" || id == "version" {
                continue;
            }
            let env = arg.get_env().and_then(|env| env.to_str()).unwrap_or("");
            assert!(env.starts_with("MESH_TEST_"), "{id}: {env}");
            assert!(arg.get_help().is_some(), "{id} has no help");
        }
        let pki_dir = command
            .get_arguments()
            .find(|arg| arg.get_id() == "pki_dir")
            .unwrap();
        assert!(
            pki_dir
                .get_help()
                .unwrap()
                .to_string()
                .contains("`<dir>/agent-a/svid.pem`")
        );
    }

    #[test]
    fn database_urls_never_print_their_password() {
        let url = DatabaseUrl::new("postgres://user:hunter2@db/x");
        assert_eq!(
            format!("{url:?} {url}"),
            "postgres:(redacted) postgres:(redacted)"
        );
    }
}
