//! The test environment: the real external IAM and the real web app on 127.0.0.1:0, each with
//! its own SQLite file, one manual clock for both, a dev PKI in a temporary folder, a small
//! Agent B that verifies what the web app sends, and a scripted browser.

pub mod agent_b;
pub mod browser;
pub mod chain;
pub mod env;
pub mod iam;
pub mod logs;

pub use agent_b::AgentBMode;
pub use browser::{Browser, hidden, query_param};
pub use env::{Options, TestEnv};
pub use logs::STEPS;

/// A realistic "now" for the manual clock.
pub const START: i64 = 1_800_000_000;
/// The web app's client secret at the test IAM.
pub const SECRET: &str = "test-web-app-secret-0123456789abcdefghijkl";
/// Agent B's API identifier.
pub const RESOURCE: &str = "https://agent-b.namespace-b.demo.test";
