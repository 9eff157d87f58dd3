//! Shared fixtures: a dev PKI per test, a customer token issuer, the real internal IAM, Agent A
//! and Service A2, and the real Agent B on 127.0.0.1:0 with a client playing the web app.

pub mod chain;
pub mod env;
pub mod iam;
pub mod issuer;
pub mod pki;
pub mod relay;
pub mod web_app;

pub use env::TestEnv;

/// The external IAM's `sub` of the demo customers, as `infra/data/service-a2.toml` lists them.
pub const ALICE: &str = "demo-user-alice";
pub const BOB: &str = "demo-user-bob";
/// A customer with a login but no account at Service A2.
pub const CAROL: &str = "demo-user-carol";
