//! The trust domain's token service: certificate-bound service tokens and transaction tokens for
//! workloads, over mutual TLS (design steps 14–16).
//!
//! Workloads reach it only over mutual TLS with their X.509-SVIDs; the TLS layer admits any
//! workload of the trust domain, and every request is then authorized by the caller's
//! *registration* (its SPIFFE ID → the audiences and scopes it may obtain, and whether it may
//! exchange a customer's token).
//!
//! # Endpoints (all on the mTLS listener)
//!
//! | method and path | what |
//! |---|---|
//! | `POST /token` | `client_credentials` (RFC 6749 §4.4, client authenticated by `tls_client_auth`, RFC 8705 §2.1) and token exchange (RFC 8693) returning a transaction token |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata (path-suffixed by the issuer's path, §3) |
//! | `GET /jwks.json` | the signing keys, for validators |
//! | `GET /healthz` | `ok` once serving; needs a client SVID like everything else here |
//!
//! An optional plain-HTTP listener (`--health-listen`) answers only `GET /healthz`, for probes
//! that cannot present a certificate (a kubelet); it serves nothing else.
//!
//! # The token endpoint, precisely
//!
//! See [`token`] for the parameters, how `resource` and `audience` combine, the `expires_in`
//! request parameter, the order of checks and the error of each.
//!
//! # Library layout
//!
//! [`App`] builds and runs the server ([`Config`] is its configuration, every option also an
//! environment variable); [`registry`] holds registrations and the policy file; [`audit`] the
//! audit trail; [`cli`] the admin subcommands of the `internal-iam` binary.

mod app;
pub mod audit;
pub mod cli;
mod config;
mod duration;
mod handshake;
mod health;
mod ids;
mod metadata;
pub mod registry;
mod request_id;
mod state;
mod subject;
pub mod token;

pub use app::{App, AppHandles, StartError};
pub use config::{
    Config, DatabaseArgs, DatabaseUrl, ExternalIamConfig, IdentityConfig, Lifetimes,
    MAX_TOKEN_LIFETIME,
};
pub use duration::parse_duration;

/// The database migrations of this program (both backends).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[cfg(test)]
mod tests {
    /// The signing-keys table is the storage crate's, statement for statement.
    #[test]
    fn the_signing_keys_migration_is_the_shared_schema() {
        let migration = include_str!("../migrations/0001_signing_keys.sql");
        assert!(migration.contains(storage::signing_keys::SCHEMA));
    }
}
