//! The six real programs, started as child processes by the kit (`e2e::kit::TestEnv`): the
//! 23-step flow, Agent B's service-token cache as the internal IAM's audit records it, an
//! internal IAM outage, and the kit's own promises (errors that name the program, cleanup).
//! Build the programs first: `make e2e`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent_a_credentials;
mod agent_b_dpop;
mod browser;
mod chat_access;
mod flow;
mod iam_outage;
mod iam_restart;
mod isolation;
mod kit;
mod service_a2_peers;
mod service_token;
