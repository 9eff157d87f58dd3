//! The step events the programs log (`telemetry::StepEvent`), placed on one time line and
//! written as a trace.
//!
//! An event is written when its step ends; its `duration_ms` says when the step began. Steps
//! nest across programs (Agent A's step 18 "Service A2 called" ends after Service A2's steps
//! 19 and 20), so the order of the steps is the order in which they *began*. Every program runs
//! on this machine's clock, so the programs' timestamps compare.

use std::path::Path;

use serde::Serialize;
use telemetry::StepEvent;

/// A step event with its span in microseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedStep {
    pub event: StepEvent,
    pub began_us: i64,
    pub ended_us: i64,
}

impl TimedStep {
    /// Places `event` on the time line; `None` if its timestamp is not RFC 3339 UTC.
    pub fn new(event: StepEvent) -> Option<Self> {
        let ended_us = rfc3339_utc_micros(&event.timestamp)?;
        // Rounded to the microsecond the timestamps have.
        let began_us = ended_us - (event.duration_ms * 1000.0).round() as i64;
        Some(Self {
            event,
            began_us,
            ended_us,
        })
    }

    /// The entry written to the trace file.
    pub fn to_entry(&self) -> TraceEntry<'_> {
        let event = &self.event;
        TraceEntry {
            step: event.step.number(),
            title: event.step.title(),
            phase: event.step.phase().number(),
            service: &event.service,
            logged_by: &event.logged_by,
            outcome: event.outcome.label(),
            duration_ms: event.duration_ms,
            request_id: &event.request_id,
            check: &event.check,
            detail: event.detail.as_deref(),
            timestamp: &event.timestamp,
        }
    }
}

/// One object of the trace file, fields in this order.
#[derive(Debug, Serialize)]
pub struct TraceEntry<'a> {
    pub step: u8,
    pub title: &'static str,
    pub phase: u8,
    /// The program that performed the step.
    pub service: &'a str,
    /// The program whose log holds the event.
    pub logged_by: &'a str,
    pub outcome: &'static str,
    pub duration_ms: f64,
    pub request_id: &'a str,
    pub check: &'a str,
    pub detail: Option<&'a str>,
    /// When the event was written (the step's end), RFC 3339 UTC.
    pub timestamp: &'a str,
}

/// `events` on the time line, in the order they began (ties: by step number).
pub fn timeline(events: impl IntoIterator<Item = StepEvent>) -> Vec<TimedStep> {
    let mut timed: Vec<TimedStep> = events.into_iter().filter_map(TimedStep::new).collect();
    timed.sort_by_key(|t| (t.began_us, t.event.step.number()));
    timed
}

/// Writes `steps` to `path` as a JSON array (creating the folder).
pub fn write_trace(path: &Path, steps: &[TimedStep]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let entries: Vec<TraceEntry<'_>> = steps.iter().map(TimedStep::to_entry).collect();
    let text = serde_json::to_string_pretty(&entries).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (the format of the programs' JSON lines) as microseconds
/// since the epoch.
pub fn rfc3339_utc_micros(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
    );
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock_parts = clock.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (
        clock_parts.next()?.ok()?,
        clock_parts.next()?.ok()?,
        clock_parts.next()?.ok()?,
    );
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
        || fraction.len() > 9
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let micros = format!("{fraction:0<6}")[..6].parse::<i64>().ok()?;
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(seconds * 1_000_000 + micros)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_log_timestamps() {
        assert_eq!(rfc3339_utc_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_utc_micros("2025-01-01T12:00:00.000001Z"),
            Some(1_735_732_800_000_001)
        );
        // 2000 was a leap year: 29 February exists.
        assert_eq!(
            rfc3339_utc_micros("2000-03-01T00:00:00.5Z"),
            Some(951_868_800_500_000)
        );
        assert_eq!(
            rfc3339_utc_micros("2033-05-18T03:33:20.123456789Z"),
            Some(2_000_000_000_123_456)
        );
        for bad in [
            "2025-01-01T12:00:00",
            "2025-13-01T12:00:00Z",
            "2025-01-01 12:00:00Z",
            "2025-01-01T12:00:00.x1Z",
            "not a time",
        ] {
            assert_eq!(rfc3339_utc_micros(bad), None, "{bad}");
        }
    }

    fn event(step: u32, timestamp: &str, duration_ms: f64) -> StepEvent {
        let line = format!(
            r#"{{"timestamp":"{timestamp}","level":"INFO","service":"agent-a","target":"step","fields":{{"message":"m","step":{step},"request_id":"r","service":"agent-a","outcome":"ok","duration_ms":{duration_ms},"check":"c"}},"spans":[]}}"#
        );
        StepEvent::from_json_line(&line).unwrap().unwrap()
    }

    #[test]
    fn orders_steps_by_when_they_began() {
        // Step 18 is logged last but began first: it encloses 19 and 20.
        let steps = timeline([
            event(19, "2025-01-01T12:00:00.002000Z", 1.0),
            event(20, "2025-01-01T12:00:00.003000Z", 0.5),
            event(18, "2025-01-01T12:00:00.004000Z", 3.5),
        ]);
        let order: Vec<u8> = steps.iter().map(|s| s.event.step.number()).collect();
        assert_eq!(order, [18, 19, 20]);
        assert_eq!(steps[0].began_us, 1_735_732_800_000_500);
        assert_eq!(steps[0].ended_us, 1_735_732_800_004_000);
    }

    #[test]
    fn writes_the_trace_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e2e/flow-trace.json");
        write_trace(&path, &timeline([event(17, "2025-01-01T12:00:00Z", 2.25)])).unwrap();
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let entry = &written[0];
        assert_eq!(entry["step"], 17);
        assert_eq!(entry["service"], "agent-a");
        assert_eq!(entry["outcome"], "ok");
        assert_eq!(entry["duration_ms"], 2.25);
        assert_eq!(entry["request_id"], "r");
    }
}
