//! Human-readable lines: service name first, no colour codes when not at a terminal.

use crate::capture::Capture;
use telemetry::{LogFormat, RequestContext, RequestId, StepTimer, TraceParent, request_span};
use wire::{Program, steps};

#[test]
fn lines_start_with_the_service_and_show_the_step_fields() {
    let ctx = RequestContext::new(
        RequestId::parse("Yv1cS0rT3x8Q2mNp4LkJdA").unwrap(),
        TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap(),
    );
    let capture = Capture::default();
    let subscriber =
        telemetry::subscriber("web-app", LogFormat::Human, "info", capture.clone()).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let span = request_span(&ctx);
        let _entered = span.enter();
        let _ = StepTimer::start(Program::WebApp, steps::CHAT_SCOPE_CHECKED, &ctx.request_id)
            .rejected("chatbot:access", "scope missing\nforged line");
    });
    let lines = capture.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("web-app "), "{line}");
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains("request{request_id=\"Yv1cS0rT3x8Q2mNp4LkJdA\""),
        "{line}"
    );
    assert!(line.contains("step=11"), "{line}");
    assert!(line.contains("outcome=\"rejected\""), "{line}");
    assert!(
        line.contains("detail=\"scope missing\\nforged line\""),
        "{line}"
    );
    assert!(!line.contains('\u{1b}'), "no ANSI escapes: {line}");
}
