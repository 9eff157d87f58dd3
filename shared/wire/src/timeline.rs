//! Rust-side helpers for the generated `timeline.v1` types: the log labels of [`Outcome`] and the
//! checks a receiver makes on the [`StepRecord`]s a downstream hop returns.

use crate::grpc::timeline::v1::{Outcome, StepRecord};
use crate::steps::Step;

impl Outcome {
    /// Every outcome a record may carry (everything but `UNSPECIFIED`).
    pub const RECORDED: [Self; 5] = [
        Self::Ok,
        Self::Rejected,
        Self::Skipped,
        Self::Cached,
        Self::Failed,
    ];

    /// The `outcome` field of step log events: `ok`, `rejected`, `skipped`, `cached`, `failed`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Ok => "ok",
            Self::Rejected => "rejected",
            Self::Skipped => "skipped",
            Self::Cached => "cached",
            Self::Failed => "failed",
        }
    }

    /// The outcome with this log label; `None` for anything else, including `unspecified`.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::RECORDED
            .into_iter()
            .find(|outcome| outcome.label() == label)
    }
}

/// Why a step record returned by a downstream hop is not accepted into the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidStepRecord {
    /// The step number is not in the catalogue.
    #[error("step {0} is not in the catalogue")]
    UnknownStep(u32),
    /// The outcome was left unspecified.
    #[error("step record has no outcome")]
    MissingOutcome,
    /// The outcome is a value this version does not know.
    #[error("step record has unknown outcome {0}")]
    UnknownOutcome(i32),
}

impl StepRecord {
    /// The catalogue entry and outcome of a record received from another program. The text
    /// fields are left as they are: the web app escapes them when it renders the timeline.
    pub fn checked(&self) -> Result<(Step, Outcome), InvalidStepRecord> {
        let step = Step::by_number(self.step).ok_or(InvalidStepRecord::UnknownStep(self.step))?;
        match Outcome::try_from(self.outcome) {
            Ok(Outcome::Unspecified) => Err(InvalidStepRecord::MissingOutcome),
            Ok(outcome) => Ok((step, outcome)),
            Err(_) => Err(InvalidStepRecord::UnknownOutcome(self.outcome)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(step: u32, outcome: i32) -> StepRecord {
        StepRecord {
            step,
            service: "agent-a".into(),
            check: "service token".into(),
            outcome,
            duration_us: 1200,
            detail: None,
        }
    }

    #[test]
    fn labels_round_trip() {
        for outcome in Outcome::RECORDED {
            assert_eq!(Outcome::from_label(outcome.label()), Some(outcome));
        }
        assert_eq!(Outcome::from_label("unspecified"), None);
        assert_eq!(Outcome::from_label("OK"), None);
    }

    #[test]
    fn accepts_a_valid_record() {
        let (step, outcome) = record(17, Outcome::Ok as i32).checked().unwrap();
        assert_eq!(step, crate::steps::CALLER_VERIFIED);
        assert_eq!(outcome, Outcome::Ok);
    }

    #[test]
    fn rejects_unknown_steps() {
        assert_eq!(
            record(0, Outcome::Ok as i32).checked(),
            Err(InvalidStepRecord::UnknownStep(0))
        );
        assert_eq!(
            record(24, Outcome::Ok as i32).checked(),
            Err(InvalidStepRecord::UnknownStep(24))
        );
    }

    #[test]
    fn rejects_missing_and_unknown_outcomes() {
        assert_eq!(
            record(17, 0).checked(),
            Err(InvalidStepRecord::MissingOutcome)
        );
        assert_eq!(
            record(17, 99).checked(),
            Err(InvalidStepRecord::UnknownOutcome(99))
        );
        assert_eq!(
            record(17, -1).checked(),
            Err(InvalidStepRecord::UnknownOutcome(-1))
        );
    }
}
