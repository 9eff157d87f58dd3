//! Calls to the programs without the web app in between, made as a client or another workload
//! would make them. The negative end-to-end tests need what the web app never hands out (the
//! customer's DPoP-bound access token, a service token, a transaction token) and callers the
//! web app never is (another workload's SVID, a token signed by a stranger).
//!
//! - [`customer_token`]: the authorization code flow run by the test itself as the `web-app`
//!   client: PKCE S256, its own DPoP key, the real sign-in forms with a TOTP code.
//! - [`AgentBClient`]: `POST /v1/chat` over mutual TLS with any workload's SVID and any
//!   `Authorization` / `DPoP` headers, good or bad.
//! - [`InternalIamClient`]: the internal IAM's token endpoint over mutual TLS, as a workload.
//! - [`grpc`]: channels to Agent A and Service A2 presenting any SVID, and their requests.
//! - [`iam_signing_keys`], [`claims_of`], [`forge`]: tokens with exactly one property wrong.
//! - [`Challenge`]: a `WWW-Authenticate` value, read into its scheme and parameters.
//!
//! Like the rest of the kit, helpers panic with what they saw when the system does not answer
//! as a working one would: in a test that is the failure report.

mod agent_b;
mod challenge;
mod customer;
pub mod grpc;
mod internal_iam;
mod signing;

use std::sync::Arc;

use telemetry::{RequestContext, RequestId, SystemRandom, TraceParent};
use workload_identity::workloads::Workload;
use workload_identity::{FileSource, IdentitySource, SpiffeId};

pub use agent_b::{AgentBClient, Reply, chat_headers};
pub use challenge::Challenge;
pub use customer::{CustomerToken, customer_token};
pub use internal_iam::InternalIamClient;
pub use signing::{claims_of, forge, iam_signing_keys, sign_as_internal_iam};

use crate::kit::TestEnv;

/// A workload's SPIFFE ID in the system's trust domain.
pub fn spiffe_id(workload: Workload) -> SpiffeId {
    workload.spiffe_id(&crate::dev_trust_domain())
}

/// `workload`'s identity (SVID, key, bundle) from the system's dev PKI: presenting it is being
/// that workload, as far as every peer can tell.
pub fn identity(env: &TestEnv, workload: Workload) -> Arc<dyn IdentitySource> {
    FileSource::load(env.pki().files(workload))
        .unwrap_or_else(|error| panic!("cannot load {}'s SVID: {error}", workload.name()))
}

/// A fresh correlation context (request id and `traceparent`), so that each call of a test can
/// be found in the programs' step events and audit rows.
pub fn request_context() -> RequestContext {
    let rng = SystemRandom::new();
    let fail = |what: &str| -> ! { panic!("no randomness for a {what}") };
    RequestContext::new(
        RequestId::generate(&rng).unwrap_or_else(|_| fail("request id")),
        TraceParent::generate(&rng).unwrap_or_else(|_| fail("traceparent")),
    )
}
