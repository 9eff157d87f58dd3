//! Shared fixtures: a dev PKI per test, the real internal IAM for real tokens, the real Service
//! A2 behind a connection-counting relay, and the real Agent A on 127.0.0.1:0.

pub mod agent;
pub mod customer;
pub mod iam;
pub mod pki;
pub mod relay;

/// The external IAM's `sub` of the demo customers, as `infra/data/service-a2.toml` lists them.
pub const ALICE: &str = "demo-user-alice";
pub const BOB: &str = "demo-user-bob";
/// A customer the external IAM knows but who has no account at Service A2.
pub const CAROL: &str = "demo-user-carol";
