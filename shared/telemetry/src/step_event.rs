//! Reading step events back from JSON log lines, with the same field names the writer uses, so
//! the end-to-end test and any log tooling parse exactly what the programs emit.

use crate::step::TARGET;
use serde::Deserialize;
use wire::{Outcome, Step};

/// A step event read from a JSON log line.
#[derive(Debug, Clone, PartialEq)]
pub struct StepEvent {
    /// RFC 3339 UTC time the event was written.
    pub timestamp: String,
    /// The service named in the line's envelope (the process that wrote it).
    pub logged_by: String,
    /// The step.
    pub step: Step,
    /// The request id.
    pub request_id: String,
    /// The program that performed the step.
    pub service: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Wall time spent, in milliseconds.
    pub duration_ms: f64,
    /// The check made.
    pub check: String,
    /// The reason for a rejection, skip or failure, if any.
    pub detail: Option<String>,
}

/// Why a log line could not be read as a step event.
#[derive(Debug, thiserror::Error)]
pub enum StepLineError {
    /// The line is not a JSON log line of this crate's format.
    #[error("not a JSON log line: {0}")]
    NotJson(serde_json::Error),
    /// A step event whose fields are missing or mistyped.
    #[error("step event with invalid fields: {0}")]
    InvalidFields(serde_json::Error),
    /// A step number outside the catalogue.
    #[error("step {0} is not in the catalogue")]
    UnknownStep(u32),
    /// An outcome label this version does not know.
    #[error("unknown outcome {0:?}")]
    UnknownOutcome(String),
}

#[derive(Deserialize)]
struct Envelope {
    timestamp: String,
    service: String,
    target: String,
    fields: serde_json::Value,
}

#[derive(Deserialize)]
struct Fields {
    step: u32,
    request_id: String,
    service: String,
    outcome: String,
    duration_ms: f64,
    check: String,
    #[serde(default)]
    detail: Option<String>,
}

impl StepEvent {
    /// Reads one line: `Ok(None)` for a valid log line that is not a step event.
    pub fn from_json_line(line: &str) -> Result<Option<Self>, StepLineError> {
        let envelope: Envelope = serde_json::from_str(line).map_err(StepLineError::NotJson)?;
        if envelope.target != TARGET {
            return Ok(None);
        }
        let fields: Fields =
            serde_json::from_value(envelope.fields).map_err(StepLineError::InvalidFields)?;
        let step = Step::by_number(fields.step).ok_or(StepLineError::UnknownStep(fields.step))?;
        let outcome = Outcome::from_label(&fields.outcome)
            .ok_or_else(|| StepLineError::UnknownOutcome(fields.outcome.clone()))?;
        Ok(Some(Self {
            timestamp: envelope.timestamp,
            logged_by: envelope.service,
            step,
            request_id: fields.request_id,
            service: fields.service,
            outcome,
            duration_ms: fields.duration_ms,
            check: fields.check,
            detail: fields.detail,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"timestamp":"2025-01-01T12:00:00.000000Z","level":"INFO","service":"agent-a","target":"step","fields":{"message":"m","step":17,"request_id":"Yv1cS0rT3x8Q2mNp4LkJdA","service":"agent-a","outcome":"ok","duration_ms":1.5,"check":"service token"},"spans":[]}"#;

    #[test]
    fn reads_a_step_line() {
        let event = StepEvent::from_json_line(LINE).unwrap().unwrap();
        assert_eq!(event.step, wire::steps::CALLER_VERIFIED);
        assert_eq!(event.outcome, Outcome::Ok);
        assert_eq!(event.service, "agent-a");
        assert_eq!(event.logged_by, "agent-a");
        assert_eq!(event.request_id, "Yv1cS0rT3x8Q2mNp4LkJdA");
        assert_eq!(event.duration_ms, 1.5);
        assert_eq!(event.check, "service token");
        assert_eq!(event.detail, None);
    }

    #[test]
    fn other_targets_are_not_step_events() {
        let line = LINE.replace(r#""target":"step""#, r#""target":"agent_a::server""#);
        assert!(StepEvent::from_json_line(&line).unwrap().is_none());
    }

    #[test]
    fn rejects_non_json() {
        assert!(matches!(
            StepEvent::from_json_line("agent-a 2025 INFO step: ..."),
            Err(StepLineError::NotJson(_))
        ));
    }

    #[test]
    fn rejects_missing_fields() {
        let line = LINE.replace(r#""outcome":"ok","#, "");
        assert!(matches!(
            StepEvent::from_json_line(&line),
            Err(StepLineError::InvalidFields(_))
        ));
    }

    #[test]
    fn rejects_unknown_steps() {
        let line = LINE.replace(r#""step":17"#, r#""step":24"#);
        assert!(matches!(
            StepEvent::from_json_line(&line),
            Err(StepLineError::UnknownStep(24))
        ));
    }

    #[test]
    fn rejects_unknown_outcomes() {
        let line = LINE.replace(r#""outcome":"ok""#, r#""outcome":"maybe""#);
        assert!(matches!(
            StepEvent::from_json_line(&line),
            Err(StepLineError::UnknownOutcome(label)) if label == "maybe"
        ));
    }
}
