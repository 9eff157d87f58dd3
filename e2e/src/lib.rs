//! Starts the six real programs together, as child processes, for the end-to-end tests and for
//! `make demo`: one copy of "how to start the system".
//!
//! - [`Stack`]: the description: [`Ports`], a state folder (dev PKI, each program's SQLite file,
//!   logs), trust domain `demo.test`, log format, where the executables are ([`Binaries`]).
//! - [`System::start`]: prepares the state folder (the dev PKI through the `dev-pki` library, the
//!   external IAM's demo users and the web app's client registered for the stack's ports),
//!   starts the six programs, waits until each answers its health endpoint, and names the
//!   program and quotes its last lines if one exits or stays unhealthy. Every line each program
//!   writes is kept ([`ProgramLog`]), appended to `logs/<program>.log` and optionally echoed
//!   with a `program      | ` prefix. Stopping (one program, or all, and on drop) is SIGTERM,
//!   then SIGKILL after a grace period.
//! - [`kit`]: the test kit on top: [`kit::TestEnv`] (free ports, a temporary folder, JSON logs,
//!   step events, stopping and restarting one program, the internal IAM's audit, the PKI's
//!   files) and [`kit::Browser`], which logs in through the real forms.
//!
//! The programs must be built first (`cargo build --workspace --bins`, which `make e2e`,
//! `make demo` and `cargo test --workspace` do); a missing one is reported with that command.

mod binaries;
mod child;
pub mod chromium;
pub mod direct;
mod error;
pub mod kit;
mod logs;
mod ports;
mod prepare;
mod stack;
mod system;

use std::time::Duration;

pub use binaries::{Binaries, MissingBinary};
pub use error::StartError;
pub use logs::ProgramLog;
pub use ports::{PortInUse, Ports};
pub use prepare::Prepared;
pub use stack::{Stack, dev_trust_domain};
pub use system::{Readiness, System};
pub use wire::Program;

/// An HTTP client for talking to the programs' plain-HTTP listeners: no proxy (an
/// `http_proxy` in the environment must not capture loopback traffic), no redirects followed
/// (each hop of a login is checked), `timeout` per request.
pub fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    // reqwest is built without a default TLS provider in this workspace; the kit speaks plain
    // HTTP, but the client is built with TLS support all the same.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
}
