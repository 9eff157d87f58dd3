//! What the logs say: one step event per step with the request id, each refusal with its
//! reason, and never a token.

use std::io::Write;
use std::sync::{Arc, Mutex};

use telemetry::{LogFormat, StepEvent};
use wire::{Intent, Outcome};
use workload_identity::workloads::{AGENT_B, WEB_APP};

use crate::support::ALICE;
use crate::support::agent::{TestEnv, call, request};

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

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

// The test's runtime is single-threaded, so every server task runs on this thread and logs to
// the subscriber set for it.
#[tokio::test]
async fn steps_are_logged_with_the_request_id_and_tokens_never_are() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber =
        telemetry::subscriber("test", LogFormat::Json, "info", move || writer.clone()).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    // tracing caches each callsite's interest globally. While a single dispatcher is registered
    // it asks only the default of whichever thread registers the callsite, so another test's
    // thread (no subscriber) would cache "never" for the step events. With a second one alive,
    // every live dispatcher is asked, this capture included.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());

    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-logs-00000001").await;
    let mut agent_b = env.client(AGENT_B).await;
    call(
        &mut agent_b,
        request(
            Intent::Balance,
            Some(&service_token),
            Some(&user_context),
            "chat-logs-00000001",
        ),
    )
    .await
    .unwrap();
    let mut web_app = env.client(WEB_APP).await;
    call(
        &mut web_app,
        request(
            Intent::Balance,
            Some(&service_token),
            Some(&user_context),
            "chat-logs-00000002",
        ),
    )
    .await
    .unwrap_err();
    env.stop().await;

    let text = capture.text();
    let events: Vec<StepEvent> = text
        .lines()
        .filter_map(|line| StepEvent::from_json_line(line).unwrap())
        .filter(|event| event.request_id.starts_with("chat-logs-"))
        .collect();
    let served: Vec<_> = events
        .iter()
        .filter(|event| event.request_id == "chat-logs-00000001")
        .map(|event| (event.step.number(), event.service.as_str(), event.outcome))
        .collect();
    for expected in [
        (17, "agent-a", Outcome::Ok),
        (18, "agent-a", Outcome::Ok),
        (19, "service-a2", Outcome::Ok),
        (20, "service-a2", Outcome::Ok),
        (21, "agent-a", Outcome::Ok),
    ] {
        assert!(served.contains(&expected), "{expected:?} not in {served:?}");
    }
    let refused: Vec<_> = events
        .iter()
        .filter(|event| event.request_id == "chat-logs-00000002")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].step.number(), 17);
    assert_eq!(refused[0].outcome, Outcome::Rejected);
    assert!(
        refused[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("bound to another certificate")
    );

    // Neither token, nor any of its parts, is anywhere in the logs.
    for token in [&service_token, &user_context] {
        for part in token.split('.') {
            assert!(!text.contains(part), "a token part was logged");
        }
    }
}
