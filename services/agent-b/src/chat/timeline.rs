//! The steps of one chat request, as the web app shows them.
//!
//! Agent B's own steps (12, 13, 14, 22) come from `telemetry::StepTimer`, which also logs each
//! one. Steps other programs performed are either returned by them (17 to 21, from Agent A) or
//! *reported* here: 15 and 16, which the internal IAM performs but does not return records for,
//! and every step a local answer did not need. Reported steps are named after the program that
//! performs them and are not logged as step events by Agent B: the performer logs its own.

use std::time::Duration;

use wire::chat::TimelineStep;
use wire::{Outcome, Step, StepRecord, steps};

/// The records of one request, in order.
#[derive(Debug, Default)]
pub struct Timeline(Vec<StepRecord>);

impl Timeline {
    pub fn push(&mut self, record: StepRecord) {
        self.0.push(record);
    }

    pub fn extend(&mut self, records: impl IntoIterator<Item = StepRecord>) {
        self.0.extend(records);
    }

    /// Adds a record for `step` on behalf of the program that performs it.
    pub fn report(
        &mut self,
        step: Step,
        outcome: Outcome,
        check: &str,
        detail: Option<&str>,
        took: Duration,
    ) {
        self.0.push(StepRecord {
            step: u32::from(step.number()),
            service: step.performer().name().to_owned(),
            check: check.to_owned(),
            outcome: outcome as i32,
            duration_us: u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            detail: detail.map(str::to_owned),
        });
    }

    /// Steps 15 to 21, which a message answered without account data did not need.
    pub fn report_not_needed(&mut self, reason: &str) {
        for step in &steps::ALL[usize::from(steps::WORKLOAD_VERIFIED.number()) - 1
            ..usize::from(steps::AGENT_A_RESPONDED.number())]
        {
            self.report(
                *step,
                Outcome::Skipped,
                step.title(),
                Some(reason),
                Duration::ZERO,
            );
        }
    }

    /// The records as JSON. Every record was made here or checked when Agent A returned it;
    /// one that still does not convert is left out rather than failing the answer.
    pub fn into_json(self) -> Vec<TimelineStep> {
        self.0
            .iter()
            .filter_map(|record| match TimelineStep::try_from(record) {
                Ok(step) => Some(step),
                Err(error) => {
                    tracing::error!(%error, "a step record was left out of the timeline");
                    None
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_needed_steps_are_fifteen_to_twenty_one_by_their_performers() {
        let mut timeline = Timeline::default();
        timeline.report_not_needed("a greeting");
        let steps = timeline.into_json();
        assert_eq!(
            steps.iter().map(|s| s.step).collect::<Vec<_>>(),
            (15..=21).collect::<Vec<_>>()
        );
        assert!(steps.iter().all(|s| s.outcome == Outcome::Skipped));
        assert_eq!(steps[0].service, "internal-iam");
        assert_eq!(steps[4].service, "service-a2");
        assert_eq!(steps[6].detail.as_deref(), Some("a greeting"));
    }
}
