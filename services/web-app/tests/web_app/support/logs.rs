//! Step events of every test, captured as JSON lines (tests filter them by request id).

use std::sync::{Arc, LazyLock, Mutex, Once};

pub static STEPS: LazyLock<Capture> = LazyLock::new(Capture::default);

/// Installs the ring crypto provider and the capturing subscriber, once per test binary.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let subscriber = telemetry::subscriber(
            "tests",
            telemetry::LogFormat::Json,
            "step=info",
            STEPS.clone(),
        )
        .unwrap();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// A `MakeWriter` that keeps every line written.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// The step events logged for `request_id`, in order.
    pub fn for_request(&self, request_id: &str) -> Vec<telemetry::StepEvent> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter_map(|line| telemetry::StepEvent::from_json_line(line).ok().flatten())
            .filter(|event| event.request_id == request_id)
            .collect()
    }

    /// `(step, service, outcome)` of the events for `request_id`.
    pub fn summary(&self, request_id: &str) -> Vec<(u8, String, &'static str)> {
        self.for_request(request_id)
            .into_iter()
            .map(|e| (e.step.number(), e.service, e.outcome.label()))
            .collect()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
