//! Tracing set-up, request-id and traceparent propagation, and the step events of the 23-step flow.
//!
//! - [`init`] once at start-up of every program ([`init_for_tests`] in tests): human-readable
//!   lines at a terminal, JSON lines with `LOG_FORMAT=json`, filtered by `RUST_LOG`.
//! - [`RequestId`], [`TraceParent`], [`RequestContext`]: the correlation data of a request,
//!   validated strictly because it arrives from callers and ends up in logs and headers.
//! - [`propagation`]: putting them into and reading them from HTTP headers and gRPC metadata.
//! - [`StepTimer`]: the one event per step every program emits, which also yields the
//!   [`wire::StepRecord`] for the browser's timeline; [`StepEvent`] reads such events back.
//! - [`request_span`]: the span that attaches the request id to every line of a request.
//!
//! # Secrets never reach the logs
//!
//! Nothing this crate records is secret: request ids and trace contexts are correlation data.
//! Callers keep it that way: tokens, proofs, codes, passwords, TOTP codes, cookies and private
//! keys are never logged, not even in part or at `trace` level. A token is referred to by its
//! `jti` (and a DPoP proof by its `jti`) once it has been validated; the `check` and `detail` of
//! a step say what was checked and why it failed, never the value checked.

pub mod format;
mod init;
pub mod propagation;
mod random;
mod report;
mod request_context;
mod request_id;
mod span;
pub mod step;
mod step_event;
mod traceparent;

pub use init::{
    DEFAULT_FILTER, FILTER_VAR, InitError, LOG_FORMAT_VAR, LogFormat, TEST_LOG_VAR, init,
    init_for_tests, subscriber,
};
pub use random::{RandomSource, RandomnessUnavailable};
pub use report::ErrorReport;
pub use request_context::{InvalidRequestContext, RequestContext};
pub use request_id::{InvalidRequestId, RequestId};
pub use ring::rand::SystemRandom;
pub use span::request_span;
pub use step::StepTimer;
pub use step_event::{StepEvent, StepLineError};
pub use traceparent::{InvalidTraceParent, TraceParent};
