//! The end-to-end test kit: [`TestEnv`] starts the six real binaries on free loopback ports with
//! a fresh dev PKI and databases in a temporary folder, and stops them when dropped (also when
//! the test panics).
//!
//! ```no_run
//! # async fn example() {
//! use e2e::kit::TestEnv;
//!
//! let env = TestEnv::start().await;
//! let browser = env.browser();
//! let login = browser.login("alice").await;
//! let answer = browser.chat("What is my balance?").await;
//! let steps = env.step_events_for(&answer.request_id());
//! # }
//! ```
//!
//! Helpers panic with a message quoting what they saw: in a test that is the failure report.

mod audit;
mod browser;
mod html;
mod records;
mod steps;
mod totp;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use telemetry::{LogFormat, StepEvent};
use tempfile::TempDir;
use wire::{Program, Step};
use workload_identity::IdentityFiles;
use workload_identity::workloads::Workload;

pub use audit::{AuditQuery, AuditRow};
pub use browser::{Browser, Login, Page};
pub use html::input_value;
pub use records::{Account, DemoRecords, Money, Order};
pub use steps::{TimedStep, TraceEntry, rfc3339_utc_micros, timeline, write_trace};
pub use totp::{TotpCodes, code_at, demo_user};

use crate::{Binaries, Ports, Stack, StartError, System};

/// How long a test waits for all six programs to be healthy: generous, for a loaded machine.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(120);
/// Starts on fresh ports when a port turns out to be taken.
const PORT_ATTEMPTS: u32 = 3;
/// How long [`TestEnv::wait_for_steps`] waits for log lines to arrive.
const STEPS_TIMEOUT: Duration = Duration::from_secs(30);

/// One test's system.
#[derive(Debug)]
pub struct TestEnv {
    // Declared first, dropped first: the programs stop before their folder is removed.
    system: System,
    totp: Arc<TotpCodes>,
    dir: TempDir,
}

impl TestEnv {
    /// Starts the six programs; panics with the reason (the program, its last lines) if they
    /// do not all become healthy.
    pub async fn start() -> Self {
        Self::try_start()
            .await
            .unwrap_or_else(|error| panic!("the end-to-end system did not start: {error}"))
    }

    /// Starts the six programs on free ports in a fresh temporary folder, logging JSON. If
    /// another process takes one of the ports first, tries again on other ports.
    pub async fn try_start() -> Result<Self, StartError> {
        Self::try_start_keeping(None).await
    }

    /// [`TestEnv::try_start`], keeping only the last `keep_lines` lines of each program in
    /// memory (`None`: all, as the step helpers need): a load run logs too much to keep.
    pub async fn try_start_keeping(keep_lines: Option<usize>) -> Result<Self, StartError> {
        let mut attempt = 1;
        loop {
            match Self::start_once(keep_lines).await {
                Err(error) if error.is_port_conflict() && attempt < PORT_ATTEMPTS => attempt += 1,
                started => return started,
            }
        }
    }

    async fn start_once(keep_lines: Option<usize>) -> Result<Self, StartError> {
        let io = |what: &str, error: std::io::Error| StartError::prepare(what, error);
        let dir = tempfile::Builder::new()
            .prefix("e2e-")
            .tempdir()
            .map_err(|error| io("a temporary folder", error))?;
        let binaries =
            Binaries::beside_current_exe().map_err(|error| io("the programs' folder", error))?;
        let ports = Ports::free().map_err(|error| io("free ports", error))?;
        let mut stack = Stack::new(ports, dir.path(), &infra_dir(), binaries);
        stack.public_host = "127.0.0.1".to_owned();
        stack.log_format = LogFormat::Json;
        stack.health_timeout = HEALTH_TIMEOUT;
        stack.keep_lines = keep_lines;
        let system = System::start(stack).await?;
        Ok(Self {
            system,
            totp: Arc::default(),
            dir,
        })
    }

    /// The description the system runs from (ports, URLs, state folder).
    pub fn stack(&self) -> &Stack {
        self.system.stack()
    }

    /// The running system (logs, exit checks).
    pub fn system(&self) -> &System {
        &self.system
    }

    /// The temporary state folder (PKI, databases, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `path` on the web app (`/chat`, ...).
    pub fn web_url(&self, path: &str) -> String {
        format!("{}{path}", self.stack().web_url())
    }

    /// `path` on the external IAM (`/jwks`, `/.well-known/openid-configuration`, ...).
    pub fn iam_url(&self, path: &str) -> String {
        format!("{}{path}", self.stack().issuer())
    }

    /// A new browser (no cookies) for this system's web app.
    pub fn browser(&self) -> Browser {
        Browser::new(self.stack().web_url(), Arc::clone(&self.totp))
    }

    /// A TOTP code for a demo user that this system has not seen yet (waits up to 30 s for the
    /// next time step if it has); what a person reads off their authenticator app.
    pub async fn totp_code(&self, user: &str) -> String {
        self.totp.fresh(user).await
    }

    /// Every line `program` wrote so far (stdout and stderr), across restarts.
    pub fn lines(&self, program: Program) -> Vec<String> {
        self.system.log(program).lines()
    }

    /// Every step event any program logged so far, program by program.
    pub fn step_events(&self) -> Vec<StepEvent> {
        Program::ALL
            .iter()
            .flat_map(|program| self.lines(*program))
            .filter_map(|line| StepEvent::from_json_line(&line).ok().flatten())
            .collect()
    }

    /// The step events logged under `request_id`.
    pub fn step_events_for(&self, request_id: &str) -> Vec<StepEvent> {
        self.step_events()
            .into_iter()
            .filter(|event| event.request_id == request_id)
            .collect()
    }

    /// Polls the step events until `done` holds for them (log lines reach the kit through
    /// pipes, a moment after the programs answered), at most 30 s; returns the last events seen
    /// either way, so the caller's assertion reports what was there.
    pub async fn wait_for_steps(&self, done: impl Fn(&[StepEvent]) -> bool) -> Vec<StepEvent> {
        let deadline = Instant::now() + STEPS_TIMEOUT;
        loop {
            let events = self.step_events();
            if done(&events) || Instant::now() >= deadline {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The step events logged under `request_id`, once `step` is among them (waiting as
    /// [`Self::wait_for_steps`] does). A test that saw a request refused reads here how far it
    /// went.
    pub async fn wait_for_step_of(&self, request_id: &str, step: Step) -> Vec<StepEvent> {
        let logged = |events: &[StepEvent]| {
            events
                .iter()
                .any(|e| e.request_id == request_id && e.step == step)
        };
        self.wait_for_steps(logged)
            .await
            .into_iter()
            .filter(|event| event.request_id == request_id)
            .collect()
    }

    /// Stops one program (SIGTERM, then SIGKILL after a grace period); the others keep running.
    pub async fn stop(&self, program: Program) {
        self.system.stop_program(program).await;
    }

    /// Starts a stopped program again on the same ports and state and waits until it is
    /// healthy; panics with the reason if it does not become so.
    pub async fn restart(&self, program: Program) {
        if let Err(error) = self.system.restart_program(program).await {
            panic!("{} did not restart: {error}", program.name());
        }
    }

    /// The internal IAM's audit rows matching `query`, read with `internal-iam audit list
    /// --json`. The IAM writes them in the background: poll for a row a request just caused.
    pub async fn internal_iam_audit(&self, query: &AuditQuery) -> Vec<AuditRow> {
        let stack = self.stack().clone();
        let query = query.clone();
        tokio::task::spawn_blocking(move || audit::list(&stack, &query))
            .await
            .unwrap_or_else(|error| panic!("the audit command did not finish: {error}"))
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// The dev PKI the programs run on.
    pub fn pki(&self) -> Pki {
        Pki {
            dir: self.stack().pki_dir(),
        }
    }

    /// Cargo's target directory (where test artefacts such as `e2e/flow-trace.json` go).
    pub fn target_dir(&self) -> PathBuf {
        self.stack().binaries.target_dir()
    }

    /// Stops every program now (dropping the environment does the same).
    pub async fn shutdown(self) {
        self.system.stop().await;
    }
}

/// The files of the system's dev PKI, for tests that present another workload's SVID or sign
/// their own certificates with the CA (`dev_pki::Ca::from_pem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// The PKI folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The trust bundle (the CA certificate, PEM).
    pub fn bundle(&self) -> PathBuf {
        self.dir.join(workload_identity::BUNDLE_FILE)
    }

    /// The CA's private key (PEM).
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join(dev_pki::CA_KEY_FILE)
    }

    /// A workload's SVID, key and the bundle, e.g. `pki.files(workloads::AGENT_A)`.
    pub fn files(&self, workload: Workload) -> IdentityFiles {
        IdentityFiles::in_pki_dir(&self.dir, workload.name())
    }
}

/// The repository's `infra/` (the shipped policy and demo records).
fn infra_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).join("infra")
}
