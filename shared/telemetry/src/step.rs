//! Step events: one structured event per step a program performs (design, "Every service emits
//! one structured event per step it performs"), and the [`StepRecord`] the same step contributes
//! to the timeline the browser shows.
//!
//! Every step event has the target [`TARGET`] and these fields, with these exact names:
//!
//! | field         | type   | meaning                                                       |
//! |---------------|--------|---------------------------------------------------------------|
//! | `step`        | u64    | the step number, 1–23 ([`wire::steps`])                       |
//! | `request_id`  | string | the request the step belongs to                               |
//! | `service`     | string | the program that performed it (`agent-a`, ...)                |
//! | `outcome`     | string | `ok`, `rejected`, `skipped`, `cached` or `failed`             |
//! | `duration_ms` | float  | wall time spent on the step, in milliseconds                  |
//! | `check`       | string | the check made, in a few words                                |
//! | `detail`      | string | optional: the reason for a rejection, skip or failure         |
//!
//! In JSON logs they appear under `fields` (see [`crate::format`]); [`crate::StepEvent`] reads
//! them back. `check` and `detail` never contain a secret: name a token by its `jti`.

use crate::request_id::RequestId;
use std::time::{Duration, Instant};
use wire::{Outcome, Program, Step, StepRecord};

/// The `target` of every step event.
pub const TARGET: &str = "step";

/// The field names of step events.
pub mod fields {
    /// The step number.
    pub const STEP: &str = "step";
    /// The request id.
    pub const REQUEST_ID: &str = "request_id";
    /// The performing program.
    pub const SERVICE: &str = "service";
    /// The outcome label.
    pub const OUTCOME: &str = "outcome";
    /// The duration in milliseconds.
    pub const DURATION_MS: &str = "duration_ms";
    /// The check made.
    pub const CHECK: &str = "check";
    /// The optional reason.
    pub const DETAIL: &str = "detail";
}

/// Times one step and reports it exactly once.
///
/// Finish it with the method naming the outcome. A timer dropped unfinished (an early `?`
/// return, a panic) still reports its step, as `failed`, so a step that started never vanishes
/// from the logs.
#[must_use = "a step is reported when its timer is finished"]
#[derive(Debug)]
pub struct StepTimer {
    program: Program,
    step: Step,
    request_id: RequestId,
    started: Instant,
    reported: bool,
}

impl StepTimer {
    /// Starts timing `step`, performed by `program` for `request_id`. The program is passed in,
    /// not read from a global, so tests that run several programs in one process label each
    /// event correctly.
    pub fn start(program: Program, step: Step, request_id: &RequestId) -> Self {
        Self {
            program,
            step,
            request_id: request_id.clone(),
            started: Instant::now(),
            reported: false,
        }
    }

    /// The step being timed.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The step ran and its checks passed.
    pub fn ok(mut self, check: &str) -> StepRecord {
        self.report(Outcome::Ok, check, None)
    }

    /// The step ran and its checks passed; `detail` adds context (e.g. the chosen intent).
    pub fn ok_with_detail(mut self, check: &str, detail: &str) -> StepRecord {
        self.report(Outcome::Ok, check, Some(detail))
    }

    /// The result of an earlier run was reused (e.g. a cached service token).
    pub fn cached(mut self, check: &str) -> StepRecord {
        self.report(Outcome::Cached, check, None)
    }

    /// The result of an earlier run was reused; `detail` says which (e.g. the cached token's
    /// `jti` and how long it has left).
    pub fn cached_with_detail(mut self, check: &str, detail: &str) -> StepRecord {
        self.report(Outcome::Cached, check, Some(detail))
    }

    /// The step was not needed for this request, for `reason`.
    pub fn skipped(mut self, check: &str, reason: &str) -> StepRecord {
        self.report(Outcome::Skipped, check, Some(reason))
    }

    /// A security check failed for `reason`; the request stops here. Logged at WARN.
    pub fn rejected(mut self, check: &str, reason: &str) -> StepRecord {
        self.report(Outcome::Rejected, check, Some(reason))
    }

    /// The step could not complete for `reason`, which is not a security decision (a dependency
    /// down, an internal error). Logged at ERROR.
    pub fn failed(mut self, check: &str, reason: &str) -> StepRecord {
        self.report(Outcome::Failed, check, Some(reason))
    }

    fn report(&mut self, outcome: Outcome, check: &str, detail: Option<&str>) -> StepRecord {
        self.reported = true;
        let elapsed = self.started.elapsed();
        let record = StepRecord {
            step: u32::from(self.step.number()),
            service: self.program.name().to_owned(),
            check: check.to_owned(),
            outcome: outcome as i32,
            duration_us: micros(elapsed),
            detail: detail.map(str::to_owned),
        };
        emit(
            self.step,
            &self.request_id,
            self.program,
            outcome,
            elapsed,
            check,
            detail,
        );
        record
    }
}

impl Drop for StepTimer {
    fn drop(&mut self) {
        if !self.reported {
            self.report(Outcome::Failed, "step", Some("ended without an outcome"));
        }
    }
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

fn emit(
    step: Step,
    request_id: &RequestId,
    program: Program,
    outcome: Outcome,
    elapsed: Duration,
    check: &str,
    detail: Option<&str>,
) {
    let number = u64::from(step.number());
    let (request_id, service, label) = (request_id.as_str(), program.name(), outcome.label());
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    // tracing fixes an event's level at compile time: one call site per level. The target is the
    // literal value of `TARGET` for the same reason.
    macro_rules! step_event {
        ($level:expr) => {
            tracing::event!(
                target: "step",
                $level,
                step = number,
                request_id,
                service,
                outcome = label,
                duration_ms,
                check,
                detail,
                "{}",
                step.title()
            )
        };
    }
    match outcome {
        Outcome::Ok | Outcome::Cached | Outcome::Skipped => step_event!(tracing::Level::INFO),
        Outcome::Rejected => step_event!(tracing::Level::WARN),
        Outcome::Failed | Outcome::Unspecified => step_event!(tracing::Level::ERROR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_id() -> RequestId {
        RequestId::parse("Yv1cS0rT3x8Q2mNp4LkJdA").unwrap()
    }

    #[test]
    fn records_carry_step_service_check_outcome_and_detail() {
        let record = StepTimer::start(Program::AgentA, wire::steps::CALLER_VERIFIED, &request_id())
            .rejected(
                "service token",
                "cnf.x5t#S256 does not match the peer certificate",
            );
        assert_eq!(record.step, 17);
        assert_eq!(record.service, "agent-a");
        assert_eq!(record.check, "service token");
        assert_eq!(record.outcome, Outcome::Rejected as i32);
        assert_eq!(
            record.detail.as_deref(),
            Some("cnf.x5t#S256 does not match the peer certificate")
        );
        assert!(record.checked().is_ok());
    }

    #[test]
    fn each_method_sets_its_outcome() {
        let start = || {
            StepTimer::start(
                Program::AgentB,
                wire::steps::TOKENS_REQUESTED,
                &request_id(),
            )
        };
        let outcomes = [
            (start().ok("c"), Outcome::Ok, None),
            (start().ok_with_detail("c", "d"), Outcome::Ok, Some("d")),
            (start().cached("c"), Outcome::Cached, None),
            (
                start().cached_with_detail("c", "d"),
                Outcome::Cached,
                Some("d"),
            ),
            (start().skipped("c", "d"), Outcome::Skipped, Some("d")),
            (start().rejected("c", "d"), Outcome::Rejected, Some("d")),
            (start().failed("c", "d"), Outcome::Failed, Some("d")),
        ];
        for (record, outcome, detail) in outcomes {
            assert_eq!(record.outcome, outcome as i32);
            assert_eq!(record.detail.as_deref(), detail);
        }
    }

    #[test]
    fn duration_is_measured() {
        let timer = StepTimer::start(
            Program::ServiceA2,
            wire::steps::RECORDS_RETURNED,
            &request_id(),
        );
        std::thread::sleep(Duration::from_millis(2));
        assert!(timer.ok("records").duration_us >= 2_000);
    }
}
