//! Shared fixtures: a dev PKI per test, the real internal IAM for real tokens, and the real
//! Service A2 on 127.0.0.1:0.

pub mod a2;
pub mod customer;
pub mod iam;
pub mod pki;

/// The external IAM's `sub` of the demo customers, as `infra/data/service-a2.toml` lists them.
pub const ALICE: &str = "demo-user-alice";
pub const BOB: &str = "demo-user-bob";
/// A customer the external IAM knows but who has no account at Service A2.
pub const CAROL: &str = "demo-user-carol";
