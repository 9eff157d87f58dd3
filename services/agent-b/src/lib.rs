//! Agent B: the chatbot's HTTPS + mutual-TLS JSON API in namespace-b (design steps 12 to 17 and
//! 22).
//!
//! # What it enforces
//!
//! - **Who may call, by SPIFFE ID** ([`caller`]). The TLS layer admits workloads of the trust
//!   domain; then only the allow-listed SPIFFE IDs (the web app) may call. Anyone else gets 403.
//! - **The customer, by a DPoP-bound token** ([`customer`], step 12). The external IAM's
//!   `at+jwt` for this API, with a fresh DPoP proof for this request signed by the key the token
//!   is bound to, and scope `agent:invoke`. Failures are RFC 6750 / RFC 9449 responses with a
//!   `WWW-Authenticate: DPoP` challenge.
//! - **A small deterministic chatbot** ([`intent`], step 13). Keyword intent detection; only
//!   questions about account data go further.
//! - **Tokens from the internal IAM over mTLS** ([`iam`], step 14). A certificate-bound service
//!   token for Agent A, cached until shortly before it expires, with single-flight refresh; and a
//!   transaction token per request by RFC 8693 exchange of the customer's token, which itself
//!   never travels past Agent B. Fails closed (503) when the IAM cannot be reached, and recovers
//!   by itself when it comes back.
//! - **Agent A over gRPC on mTLS** ([`agent_a`], step 17). One reused channel that accepts only
//!   Agent A's SPIFFE ID; the answer must be the verified customer's.
//!
//! The API, its JSON and its failures: [`chat`] and `wire::chat`.
//!
//! # Running
//!
//! [`App::build`] loads the SVID, sets up the key cache, the IAM client and the channel to Agent
//! A (all lazily connected: the other programs may start later) and binds the listener;
//! [`App::local_addr`] is the bound address, [`App::chat_url`] the URL DPoP proofs must name;
//! [`App::run_until_stopped`] serves until the given future completes. [`health`] describes
//! the readiness probes.

pub mod agent_a;
pub mod answer;
mod app;
pub mod caller;
pub mod chat;
pub mod config;
pub mod customer;
pub mod health;
pub mod iam;
pub mod intent;

pub use app::{App, StartError};
pub use config::{AgentAArgs, Config, CustomerTokenArgs, DEV_RESOURCE, IamArgs, IdentityArgs};
