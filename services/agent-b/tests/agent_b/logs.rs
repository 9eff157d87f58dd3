//! What the logs say: one step event per step of every program, all under the web app's request
//! id, refusals with their reason, and never a token or a proof.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use telemetry::{LogFormat, StepEvent};
use wire::Outcome;

use crate::support::{ALICE, TestEnv};

/// Log lines written to memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn request_id_of(context: &str) -> String {
    context.split('"').nth(1).unwrap().to_owned()
}

// The test's runtime is single-threaded, so every server task runs on this thread and logs to
// the subscriber set for it.
#[tokio::test]
async fn every_program_logs_its_steps_under_one_request_id_and_no_token() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber =
        telemetry::subscriber("test", LogFormat::Json, "info,agent_b=trace", move || {
            writer.clone()
        })
        .unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    // tracing caches each callsite's interest globally; with a second dispatcher alive every
    // live one is asked, this capture included (see agent-a's log test).
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());

    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    let call = web.call(&token, "What is my balance?");
    let served = request_id_of(call.context.as_deref().unwrap());
    let proof = call.proofs[0].clone();
    assert_eq!(web.send(call).await.status, 200);

    let wrong_audience = env.issuer.token_with(ALICE, &web.jkt(), |claims| {
        claims["aud"] = json!("https://elsewhere.example");
    });
    let call = web.call(&wrong_audience, "What is my balance?");
    let refused = request_id_of(call.context.as_deref().unwrap());
    assert_eq!(web.send(call).await.status, 401);
    env.stop().await;

    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let events: Vec<StepEvent> = text
        .lines()
        .filter_map(|line| StepEvent::from_json_line(line).unwrap())
        .collect();
    let of = |request_id: &str| -> Vec<(u8, String, Outcome)> {
        events
            .iter()
            .filter(|event| event.request_id == request_id)
            .map(|event| (event.step.number(), event.service.clone(), event.outcome))
            .collect()
    };
    let served_events = of(&served);
    for expected in [
        (12, "agent-b", Outcome::Ok),
        (13, "agent-b", Outcome::Ok),
        (14, "agent-b", Outcome::Ok),
        (15, "internal-iam", Outcome::Ok),
        (16, "internal-iam", Outcome::Ok),
        (17, "agent-a", Outcome::Ok),
        (18, "agent-a", Outcome::Ok),
        (19, "service-a2", Outcome::Ok),
        (20, "service-a2", Outcome::Ok),
        (21, "agent-a", Outcome::Ok),
        (22, "agent-b", Outcome::Ok),
    ] {
        let expected = (expected.0, expected.1.to_owned(), expected.2);
        assert!(
            served_events.contains(&expected),
            "{expected:?} not in {served_events:?}"
        );
    }
    // Agent B logs only its own steps; the IAM's 15 and 16 in its timeline are not events here.
    assert!(
        served_events
            .iter()
            .filter(|(_, service, _)| service == "agent-b")
            .all(|(step, _, _)| [12, 13, 14, 22].contains(step)),
        "{served_events:?}"
    );

    let refused_events: Vec<&StepEvent> = events
        .iter()
        .filter(|event| event.request_id == refused)
        .collect();
    assert_eq!(refused_events.len(), 1, "{refused_events:?}");
    assert_eq!(refused_events[0].step.number(), 12);
    assert_eq!(refused_events[0].outcome, Outcome::Rejected);
    let detail = refused_events[0].detail.as_deref().unwrap();
    assert!(detail.contains("invalid_token"), "{detail}");
    assert!(detail.contains("audience"), "{detail}");

    // No token or proof, nor any part of one, is anywhere in the logs.
    for secret in [&token, &wrong_audience, &proof] {
        for part in secret.split('.') {
            assert!(!text.contains(part), "a token part was logged");
        }
    }
}
