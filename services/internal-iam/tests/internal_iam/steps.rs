//! Steps 15 and 16 are reported as step events, under the caller's request id.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use telemetry::{LogFormat, StepEvent};
use tracing_subscriber::fmt::MakeWriter;
use wire::Outcome;
use workload_identity::workloads::{AGENT_A, AGENT_B};

use crate::support::TestIam;

/// Everything the step target logs in this test binary, as JSON lines.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The capture, installed once as the global subscriber (the server's tasks run on the runtime's
/// worker threads, which a thread-local subscriber would not see).
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = telemetry::subscriber(
            "internal-iam",
            LogFormat::Json,
            "step=info",
            capture.clone(),
        )
        .unwrap();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        capture
    })
}

fn events(request_id: &str) -> Vec<StepEvent> {
    let bytes = capture().0.lock().unwrap().clone();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .filter_map(|line| StepEvent::from_json_line(line).unwrap())
        .filter(|event| event.request_id == request_id)
        .collect()
}

async fn post(iam: &TestIam, client: &reqwest::Client, request_id: &str) -> u16 {
    client
        .post(iam.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-request-id", request_id)
        .body(
            "grant_type=client_credentials&audience=agent-service-a&scope=cross-namespace%3Ainvoke",
        )
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_issuance_reports_steps_15_and_16_and_a_refusal_step_15_rejected() {
    capture();
    let iam = TestIam::start().await;
    assert_eq!(
        post(&iam, &iam.client(AGENT_B), "steps-issued-0001").await,
        200
    );
    let issued = events("steps-issued-0001");
    let summary: Vec<(u8, Outcome, &str)> = issued
        .iter()
        .map(|event| (event.step.number(), event.outcome, event.service.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (15, Outcome::Ok, "internal-iam"),
            (16, Outcome::Ok, "internal-iam")
        ]
    );
    let audit = iam.audit().await;
    let jti = audit[0].jti.as_deref().unwrap();
    assert_eq!(
        issued[1].detail.as_deref(),
        Some(format!("jti {jti}").as_str())
    );

    assert_eq!(
        post(&iam, &iam.client(AGENT_A), "steps-refused-0001").await,
        400
    );
    let refused = events("steps-refused-0001");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0].step.number(), refused[0].outcome),
        (15, Outcome::Rejected)
    );
    assert_eq!(
        refused[0].detail.as_deref(),
        Some(format!("{} is not registered with this IAM", iam.pki.id(AGENT_A)).as_str())
    );
    iam.stop().await;
}
