//! Agent A: serves account data to Agent B over gRPC on mutual TLS, after checking its
//! certificate-bound service token and the customer's transaction token; calls Service A2 over
//! mesh mTLS (design steps 17, 18 and 21).
//!
//! # What it enforces
//!
//! - **Authentication at TLS.** Every connection is mutual TLS; the client's X.509-SVID must
//!   chain to the trust bundle, be a valid SVID and name a workload of this trust domain.
//! - **The caller, by its service token** ([`caller`]). `authorization: Bearer` must hold the
//!   internal IAM's service token for `agent-service-a` with scope `cross-namespace:invoke`
//!   (ES256 pinned, issuer, expiry), bound to *this* connection: `cnf.x5t#S256` is the
//!   thumbprint of the client certificate of this handshake, and `sub` the peer's SPIFFE ID. The
//!   IAM issues such tokens only to workloads registered for them, so this is the authorization;
//!   a token replayed over another workload's connection is refused.
//! - **The customer, by the user context** ([`user_context`]). `x-user-context` must hold the
//!   IAM's transaction token for this trust domain, minted for this peer (`req_wl`).
//! - **An audit row for every decision** ([`audit`]), allowed or refused, with the caller, the
//!   token ids, the customer, the request id and the reason.
//! - **Mesh mTLS to Service A2** ([`service_a2`]). One reused channel that accepts only Service
//!   A2's SPIFFE ID; the user context is forwarded unchanged, no service token is sent, and an
//!   answer about any other customer than the verified one is refused.
//!
//! Each refusal's gRPC status is in [`refusal`]; the order of the checks in the handler's
//! documentation ([`AccountDataService`]).
//!
//! # Running
//!
//! [`App::build`] connects and migrates the database (SQLite file by default; it holds the audit
//! trail), loads the SVID, sets up the channel to Service A2 (lazily: Service A2 need not be up
//! yet) and binds the listener; [`App::local_addr`] is the bound address;
//! [`App::run_until_stopped`] serves until the given future completes. [`health`] describes the
//! readiness probes.

mod app;
pub mod audit;
pub mod caller;
pub mod config;
pub mod health;
pub mod refusal;
mod service;
pub mod service_a2;
pub mod user_context;

pub use app::{App, StartError};
pub use config::{Config, DatabaseUrl, IamArgs, IdentityArgs, ServiceA2Args};
pub use mesh::{IamKeysError, iam_jwks};
pub use service::AccountDataService;

/// The database migrations of this program (the same files on SQLite and PostgreSQL).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
