//! Service A2: the customers' account records, served over gRPC on mutual TLS to allow-listed
//! peers, for the customer named in a verified transaction token (design steps 19 and 20).
//!
//! # What it enforces
//!
//! - **Authentication at TLS.** Every connection is mutual TLS; the client's X.509-SVID must
//!   chain to the trust bundle, be a valid SVID and name a workload of this trust domain.
//! - **Authorization per call.** Only SPIFFE IDs on the allow-list (by default Agent A,
//!   `spiffe://<trust domain>/ns/namespace-a/sa/agent-a`) are served; any other workload of the
//!   trust domain gets `PERMISSION_DENIED` naming its SPIFFE ID ([`peer`] says why this check is
//!   made here and not in the handshake).
//! - **The customer comes from a token only.** `x-user-context` must hold a transaction token of
//!   the internal IAM (`txntoken+jwt`, ES256, `iss` the IAM, `aud` the trust domain, unexpired),
//!   its signature checked against the IAM's JWK Set fetched over mTLS. Its `sub` selects the
//!   records; the request message has no customer field at all ([`user_context`]).
//! - **That customer's records only.** Every query is keyed by that `sub` ([`records`]); a `sub`
//!   without an account gets `NOT_FOUND`.
//!
//! No service token is expected: inside namespace-a the call is authorized by the mesh identity
//! (design step 18), and the user context says on whose behalf.
//!
//! # Running
//!
//! [`App::build`] connects and migrates the database (SQLite file by default), seeds the data
//! file if one is configured, loads the SVID and binds the listener; [`App::local_addr`] is the
//! bound address; [`App::run_until_stopped`] serves until the given future completes. [`health`]
//! describes the readiness probes.

mod app;
pub mod config;
pub mod health;
pub mod peer;
pub mod records;
pub mod refusal;
mod service;
pub mod user_context;

pub use app::{App, StartError};
pub use config::{Config, DatabaseUrl, IamArgs, IdentityArgs};
pub use mesh::{IamKeysError, iam_jwks};
pub use service::RecordsService;

/// The database migrations of this program (the same files on SQLite and PostgreSQL).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
