//! The timeline beside the answer: every step of the login (1–9) and of this chat request
//! (10–23), grouped by the design's five phases and, within each, into runs of steps performed
//! in the same namespace.
//!
//! Records come from three places: the web app's own steps (recorded as they happen, the
//! login's kept in the session), and Agent B's answer, which carries the steps from 12 on that
//! Agent B, the internal IAM, Agent A and Service A2 performed. A step nobody reported (the
//! external IAM's steps 3–5, which happen between the browser and the IAM) still gets a row,
//! saying so, so the reader sees all 23; step 8's row quotes the IAM's signed account of them
//! (the ID token's `amr`).

use std::ops::RangeInclusive;

use wire::Program;
use wire::chat::TimelineStep;
use wire::steps::{self, Phase, Step};

/// The steps a downstream answer may report: Agent B's and those behind it. Records outside
/// this range, or claiming to be the web app's, are dropped: only the web app reports its own
/// steps, and a confused or hostile upstream cannot write rows under its name.
pub const DOWNSTREAM_STEPS: RangeInclusive<u32> = 12..=22;

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub step: u8,
    pub title: &'static str,
    pub service: String,
    pub check: String,
    /// `ok`, `rejected`, `skipped`, `cached`, `failed`, or `not-reported`.
    pub outcome: &'static str,
    /// Human-readable duration, empty when not reported.
    pub duration: String,
    pub detail: Option<String>,
}

/// Consecutive rows of one namespace within a phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub namespace: &'static str,
    pub rows: Vec<Row>,
}

/// One phase of the design.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseView {
    pub number: u8,
    pub title: &'static str,
    pub groups: Vec<Group>,
}

/// The outcomes in the summary, worst first (an unknown label counts as the worst), with the
/// words the summary uses for them.
const SUMMARY: [(&str, &str); 6] = [
    ("rejected", "rejected"),
    ("failed", "failed"),
    ("not-reported", "not reported to the web app"),
    ("skipped", "skipped"),
    ("cached", "served from cache"),
    ("ok", "passed"),
];

/// One line of the summary: `number` steps ended in `outcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeCount {
    /// The outcome's label (the CSS class of its rows).
    pub outcome: &'static str,
    /// How the summary says it.
    pub label: &'static str,
    pub number: usize,
}

/// The whole timeline, ready for the template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    pub phases: Vec<PhaseView>,
}

impl Timeline {
    /// The phases in `phases` (1 to 5), with `records` placed on their steps.
    pub fn build(records: &[TimelineStep], phases: RangeInclusive<u8>) -> Self {
        let phases = [
            Phase::CustomerAuthentication,
            Phase::CrossNamespaceInvocation,
            Phase::ServiceToServiceAuth,
            Phase::IntraNamespaceCall,
            Phase::ResponsePropagation,
        ]
        .into_iter()
        .filter(|phase| phases.contains(&phase.number()))
        .map(|phase| phase_view(phase, records))
        .collect();
        Self { phases }
    }

    /// How many distinct steps have a row (23 when all five phases are shown).
    pub fn step_count(&self) -> usize {
        self.rows()
            .map(|row| row.step)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }

    /// The summary above the tables: how many steps ended in each outcome, in a fixed order,
    /// leaving out outcomes no step had. A step with several rows (step 12: the web app's call
    /// and Agent B's checks) counts once, with the worst of its rows' outcomes, so the numbers
    /// add up to [`Self::step_count`] and a rejection is never hidden behind an `ok`.
    pub fn outcome_counts(&self) -> Vec<OutcomeCount> {
        // A step's rows need not be adjacent (they sit in their programs' namespace groups).
        let mut worst = std::collections::BTreeMap::<u8, usize>::new();
        for row in self.rows() {
            let rank = SUMMARY
                .iter()
                .position(|(outcome, _)| *outcome == row.outcome)
                .unwrap_or(0);
            worst
                .entry(row.step)
                .and_modify(|worst_rank| *worst_rank = (*worst_rank).min(rank))
                .or_insert(rank);
        }
        SUMMARY
            .iter()
            .enumerate()
            .map(|(rank, (outcome, label))| OutcomeCount {
                outcome,
                label,
                number: worst.values().filter(|r| **r == rank).count(),
            })
            .filter(|count| count.number > 0)
            .collect()
    }

    /// Every row, in display order (for tests and logs).
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.phases
            .iter()
            .flat_map(|phase| phase.groups.iter())
            .flat_map(|group| group.rows.iter())
    }
}

fn phase_view(phase: Phase, records: &[TimelineStep]) -> PhaseView {
    let mut groups: Vec<Group> = Vec::new();
    for step in steps::ALL.iter().filter(|step| step.phase() == phase) {
        let number = u32::from(step.number());
        let mut found = records.iter().filter(|r| r.step == number).peekable();
        let rows: Vec<(&'static str, Row)> = if found.peek().is_none() {
            vec![(step.namespace().as_str(), unreported(*step))]
        } else {
            found
                .map(|record| (namespace_of(&record.service), row(*step, record)))
                .collect()
        };
        for (namespace, row) in rows {
            // Consecutive rows of one namespace share a group; a new group starts where the
            // request crosses into another namespace, so the order of the steps is kept and
            // every boundary crossing is visible.
            match groups.last_mut() {
                Some(group) if group.namespace == namespace => group.rows.push(row),
                _ => groups.push(Group {
                    namespace,
                    rows: vec![row],
                }),
            }
        }
    }
    PhaseView {
        number: phase.number(),
        title: phase.title(),
        groups,
    }
}

fn row(step: Step, record: &TimelineStep) -> Row {
    Row {
        step: step.number(),
        title: step.title(),
        service: record.service.clone(),
        check: record.check.clone(),
        outcome: record.outcome.label(),
        duration: duration(record.duration_ms),
        detail: record.detail.clone(),
    }
}

fn unreported(step: Step) -> Row {
    Row {
        step: step.number(),
        title: step.title(),
        service: step.performer().name().to_owned(),
        check: "not reported to the web app".to_owned(),
        outcome: "not-reported",
        duration: String::new(),
        detail: Some(format!(
            "{} records this step in its own log",
            step.performer().name()
        )),
    }
}

/// The namespace of a reporting service, by its program name.
fn namespace_of(service: &str) -> &'static str {
    Program::ALL
        .into_iter()
        .find(|program| program.name() == service)
        .map_or("unknown", |program| program.namespace().as_str())
}

/// `8 µs`, `0.42 ms`, `12.3 ms`, `1.24 s`.
fn duration(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return String::new();
    }
    if ms < 0.1 {
        format!("{:.0} µs", ms * 1000.0)
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// The web app's own record as a timeline step.
pub fn own(record: &wire::StepRecord) -> Option<TimelineStep> {
    TimelineStep::try_from(record).ok()
}

/// Agent B's steps that may be shown: in [`DOWNSTREAM_STEPS`], not claiming to be the web
/// app's. The rest are logged and dropped.
pub fn downstream(steps: Vec<TimelineStep>) -> Vec<TimelineStep> {
    steps
        .into_iter()
        .filter(|step| {
            let keep =
                DOWNSTREAM_STEPS.contains(&step.step) && step.service != Program::WebApp.name();
            if !keep {
                tracing::warn!(
                    step = step.step,
                    service = %step.service,
                    "Agent B reported a step it cannot have performed; not shown"
                );
            }
            keep
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::Outcome;

    fn step(number: u32, service: &str, outcome: Outcome) -> TimelineStep {
        TimelineStep {
            step: number,
            service: service.to_owned(),
            check: format!("check {number}"),
            outcome,
            duration_ms: 1.5,
            detail: None,
        }
    }

    #[test]
    fn every_step_of_the_phases_gets_a_row() {
        let timeline = Timeline::build(&[step(1, "web-app", Outcome::Ok)], 1..=5);
        let numbers: Vec<u8> = timeline.rows().map(|row| row.step).collect();
        assert_eq!(numbers, (1..=23).collect::<Vec<u8>>());
        let lanes: Vec<(&str, usize)> = timeline.phases[0]
            .groups
            .iter()
            .map(|g| (g.namespace, g.rows.len()))
            .collect();
        assert_eq!(
            lanes,
            [
                ("namespace-a", 2),
                ("external", 3),
                ("namespace-a", 1),
                ("external", 1),
                ("namespace-a", 2)
            ]
        );
        let first = timeline.rows().next().unwrap();
        assert_eq!((first.outcome, first.duration.as_str()), ("ok", "1.50 ms"));
        let third = timeline.rows().find(|row| row.step == 3).unwrap();
        assert_eq!(third.outcome, "not-reported");
        assert_eq!(third.service, "external-iam");
    }

    #[test]
    fn the_summary_counts_each_step_once_with_its_worst_outcome() {
        let records = [
            step(1, "web-app", Outcome::Ok),
            step(12, "web-app", Outcome::Ok),
            step(12, "agent-b", Outcome::Rejected),
            step(14, "agent-b", Outcome::Cached),
            step(15, "internal-iam", Outcome::Cached),
        ];
        let timeline = Timeline::build(&records, 1..=5);
        assert_eq!(timeline.step_count(), 23);
        let counts: Vec<(&str, usize)> = timeline
            .outcome_counts()
            .iter()
            .map(|count| (count.outcome, count.number))
            .collect();
        assert_eq!(
            counts,
            [
                ("rejected", 1),
                ("not-reported", 19),
                ("cached", 2),
                ("ok", 1)
            ]
        );
        assert_eq!(Timeline::build(&records, 2..=2).step_count(), 4);
    }

    #[test]
    fn rows_are_grouped_by_namespace_in_step_order() {
        let records = [
            step(10, "web-app", Outcome::Ok),
            step(11, "web-app", Outcome::Ok),
            step(12, "web-app", Outcome::Ok),
            step(12, "agent-b", Outcome::Ok),
            step(13, "agent-b", Outcome::Skipped),
        ];
        let timeline = Timeline::build(&records, 2..=2);
        assert_eq!(timeline.phases.len(), 1);
        let groups: Vec<(&str, Vec<(u8, &str)>)> = timeline.phases[0]
            .groups
            .iter()
            .map(|g| {
                (
                    g.namespace,
                    g.rows
                        .iter()
                        .map(|r| (r.step, r.service.as_str()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                (
                    "namespace-a",
                    vec![(10, "web-app"), (11, "web-app"), (12, "web-app")]
                ),
                ("namespace-b", vec![(12, "agent-b"), (13, "agent-b")]),
            ]
        );
    }

    #[test]
    fn downstream_cannot_report_the_web_apps_steps() {
        let kept = downstream(vec![
            step(9, "agent-b", Outcome::Ok),
            step(12, "web-app", Outcome::Ok),
            step(12, "agent-b", Outcome::Ok),
            step(22, "agent-b", Outcome::Ok),
            step(23, "agent-b", Outcome::Ok),
        ]);
        let kept: Vec<(u32, &str)> = kept.iter().map(|s| (s.step, s.service.as_str())).collect();
        assert_eq!(kept, [(12, "agent-b"), (22, "agent-b")]);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.0084), "8 µs");
        assert_eq!(duration(0.4213), "0.42 ms");
        assert_eq!(duration(12.34), "12.3 ms");
        assert_eq!(duration(1234.0), "1.23 s");
        assert_eq!(duration(f64::NAN), "");
    }
}
