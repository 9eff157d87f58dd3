//! JSON lines: the envelope and the step event fields the end-to-end test relies on.

use crate::capture::Capture;
use serde_json::Value;
use std::collections::BTreeSet;
use telemetry::step::{TARGET, fields};
use telemetry::{
    LogFormat, RequestContext, RequestId, StepEvent, StepTimer, TraceParent, request_span,
};
use wire::{Outcome, Program, steps};

const RID: &str = "Yv1cS0rT3x8Q2mNp4LkJdA";
const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn context() -> RequestContext {
    RequestContext::new(
        RequestId::parse(RID).unwrap(),
        TraceParent::parse(TP).unwrap(),
    )
}

/// Runs `work` with a JSON subscriber for `agent-a` and returns the parsed lines.
fn json_lines(work: impl FnOnce()) -> (Vec<String>, Vec<Value>) {
    let capture = Capture::default();
    let subscriber =
        telemetry::subscriber("agent-a", LogFormat::Json, "info", capture.clone()).unwrap();
    tracing::subscriber::with_default(subscriber, work);
    let lines = capture.lines();
    let values = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (lines, values)
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn a_step_event_has_the_documented_envelope_and_fields() {
    let ctx = context();
    let (_, lines) = json_lines(|| {
        let span = request_span(&ctx);
        let _entered = span.enter();
        let _ = StepTimer::start(Program::AgentA, steps::CALLER_VERIFIED, &ctx.request_id)
            .ok("service token, cnf.x5t#S256, user context");
    });
    assert_eq!(lines.len(), 1);
    let line = &lines[0];

    assert_eq!(
        keys(line),
        BTreeSet::from([
            "timestamp",
            "level",
            "service",
            "target",
            "request_id",
            "fields",
            "spans"
        ])
    );
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["service"], "agent-a");
    assert_eq!(line["target"], "step");
    assert_eq!(line["target"], TARGET);
    assert_eq!(line["request_id"], RID);
    assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));

    let fields = &line["fields"];
    let expected = [
        "message",
        "step",
        "request_id",
        "service",
        "outcome",
        "duration_ms",
        "check",
    ];
    assert_eq!(keys(fields), BTreeSet::from(expected));
    // The published names are the emitted ones.
    assert_eq!(
        [
            fields::STEP,
            fields::REQUEST_ID,
            fields::SERVICE,
            fields::OUTCOME,
            fields::DURATION_MS,
            fields::CHECK,
        ],
        expected[1..]
    );
    assert_eq!(fields["step"], 17);
    assert_eq!(fields["request_id"], RID);
    assert_eq!(fields["service"], "agent-a");
    assert_eq!(fields["outcome"], "ok");
    assert!(fields["duration_ms"].is_f64());
    assert!(fields["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(fields["check"], "service token, cnf.x5t#S256, user context");
    assert_eq!(
        fields["message"],
        "Service token, certificate binding and user context verified"
    );

    assert_eq!(
        line["spans"],
        serde_json::json!([{
            "name": "request",
            "request_id": RID,
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"
        }])
    );
}

#[test]
fn rejections_are_warnings_with_their_reason() {
    let ctx = context();
    let (_, lines) = json_lines(|| {
        let _ = StepTimer::start(
            Program::AgentB,
            steps::CUSTOMER_TOKEN_VALIDATED,
            &ctx.request_id,
        )
        .rejected("DPoP proof", "jti already used");
    });
    let fields = &lines[0]["fields"];
    assert_eq!(fields[fields::DETAIL], "jti already used");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(
        lines[0]["service"], "agent-a",
        "the envelope names the process"
    );
    assert_eq!(
        fields["service"], "agent-b",
        "the event names the performer"
    );
    assert_eq!(fields["step"], 12);
    assert_eq!(fields["outcome"], "rejected");
    assert_eq!(fields["detail"], "jti already used");
}

#[test]
fn a_timer_dropped_unfinished_reports_a_failed_step() {
    let ctx = context();
    let (_, lines) = json_lines(|| {
        let _timer = StepTimer::start(Program::ServiceA2, steps::PEER_AUTHORIZED, &ctx.request_id);
    });
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["level"], "ERROR");
    assert_eq!(lines[0]["fields"]["step"], 19);
    assert_eq!(lines[0]["fields"]["outcome"], "failed");
    assert_eq!(lines[0]["fields"]["detail"], "ended without an outcome");
}

#[test]
fn lines_inside_a_request_span_carry_its_request_id() {
    let ctx = context();
    let (_, lines) = json_lines(|| {
        tracing::info!("outside");
        let span = request_span(&ctx);
        let _entered = span.enter();
        tracing::info!(jti = "b7e1", "token accepted");
    });
    assert_eq!(lines[0].get("request_id"), None);
    assert_eq!(lines[0]["fields"]["message"], "outside");
    assert_eq!(lines[1]["request_id"], RID);
    assert_eq!(lines[1]["target"], "telemetry::json_lines");
    assert_eq!(lines[1]["fields"]["jti"], "b7e1");
}

#[test]
fn hostile_text_stays_inside_one_json_string() {
    let ctx = context();
    let (raw, lines) = json_lines(|| {
        let _ = StepTimer::start(Program::AgentA, steps::CALLER_VERIFIED, &ctx.request_id)
            .rejected("user context", "sub \"x\"\n{\"level\":\"INFO\"}");
    });
    assert_eq!(
        raw.len(),
        1,
        "a newline in a field must not start a new line"
    );
    assert_eq!(
        lines[0]["fields"]["detail"],
        "sub \"x\"\n{\"level\":\"INFO\"}"
    );
}

#[test]
fn every_step_of_a_run_reads_back_in_order() {
    let ctx = context();
    let (raw, _) = json_lines(|| {
        for step in steps::ALL {
            let _ = StepTimer::start(step.performer(), step, &ctx.request_id).ok("check");
        }
    });
    let events: Vec<StepEvent> = raw
        .iter()
        .filter_map(|line| StepEvent::from_json_line(line).unwrap())
        .collect();
    let numbers: Vec<u8> = events.iter().map(|e| e.step.number()).collect();
    assert_eq!(numbers, (1..=23).collect::<Vec<_>>());
    assert!(
        events
            .iter()
            .all(|e| e.outcome == Outcome::Ok && e.request_id == RID)
    );
    assert_eq!(events[16].service, "agent-a");
    assert_eq!(events[14].service, "internal-iam");
}

#[test]
fn the_filter_applies() {
    let capture = Capture::default();
    let subscriber =
        telemetry::subscriber("agent-a", LogFormat::Json, "warn", capture.clone()).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("hidden");
        tracing::warn!("shown");
    });
    let lines = capture.lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains("shown"));
}
