//! The six programs running together: started from a [`Stack`], watched until healthy, stopped
//! one at a time (and restarted) or all together, and always stopped when dropped.

use std::process::ExitStatus;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wire::Program;

use crate::child::Running;
use crate::error::{QUOTED_LINES, StartError};
use crate::logs::ProgramLog;
use crate::prepare::{Prepared, prepare};
use crate::stack::Stack;

/// Time between two rounds of health probes. Short: a program's start-up time
/// ([`System::readiness`]) is known to within this, and the second stage starts no later than
/// this after the first is ready. A probe of a port not yet bound is refused at once.
const PROBE_INTERVAL: Duration = Duration::from_millis(25);
/// How long one health probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The order of start: the two token issuers first, then everything that validates their
/// tokens. No program needs another to start, but the others fetch the issuers' keys (and the
/// web app the provider's metadata) as they start, and after a failed fetch their JWKS caches
/// wait out their refetch interval (up to 30 s) before trying again; started after the issuers
/// are healthy, they find the keys at once. Within a stage, programs start together.
const STAGES: [&[Program]; 2] = [
    &[Program::ExternalIam, Program::InternalIam],
    &[
        Program::ServiceA2,
        Program::AgentA,
        Program::AgentB,
        Program::WebApp,
    ],
];

/// The running system. Dropping it stops every program (SIGTERM, then SIGKILL after the
/// stack's grace period), also when a test panics.
#[derive(Debug)]
pub struct System {
    stack: Stack,
    prepared: Prepared,
    /// Indexed like [`Program::ALL`]; kept across restarts.
    logs: Vec<Arc<ProgramLog>>,
    /// Indexed like [`Program::ALL`]; `None` while stopped.
    running: Mutex<Vec<Option<Running>>>,
    probes: reqwest::Client,
}

/// When a program was spawned and when it first answered its health endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    pub spawned: Instant,
    /// `None` until the first healthy answer.
    pub healthy: Option<Instant>,
}

impl Readiness {
    /// From spawn to the first healthy answer, once there was one.
    pub fn time_to_healthy(&self) -> Option<Duration> {
        Some(self.healthy?.saturating_duration_since(self.spawned))
    }
}

fn index(program: Program) -> usize {
    Program::ALL
        .iter()
        .position(|p| *p == program)
        .unwrap_or_default()
}

impl System {
    /// Checks the executables and ports, prepares the state folder (PKI, demo data), starts the
    /// six programs and waits until every one answers its health endpoint.
    pub async fn start(mut stack: Stack) -> Result<Self, StartError> {
        // Absolute, so the programs' flags (and `ps`) say exactly which files they use.
        for path in [
            &mut stack.state_dir,
            &mut stack.policy,
            &mut stack.service_a2_seed,
        ] {
            *path = std::path::absolute(&*path).map_err(|error| {
                StartError::prepare(format!("the path {}", path.display()), error)
            })?;
        }
        stack.binaries.check_all()?;
        stack.ports.check_available()?;
        let prepared = {
            let stack = stack.clone();
            // Argon2 hashing and SQLite writes: off the async threads.
            tokio::task::spawn_blocking(move || prepare(&stack))
                .await
                .map_err(|error| StartError::prepare("the state folder", error))??
        };
        let logs = Program::ALL
            .iter()
            .map(|program| {
                let file = stack.log_file(*program);
                ProgramLog::open(*program, &file, stack.keep_lines, stack.echo)
                    .map(Arc::new)
                    .map_err(|error| {
                        StartError::prepare(format!("the log file {}", file.display()), error)
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let system = Self {
            prepared,
            logs,
            running: Mutex::new(Program::ALL.iter().map(|_| None).collect()),
            probes: crate::http_client(PROBE_TIMEOUT)
                .map_err(|error| StartError::prepare("the health-probe client", error))?,
            stack,
        };
        for stage in STAGES {
            for program in stage {
                system.spawn(*program)?;
            }
            system.wait_healthy(stage).await?;
        }
        Ok(system)
    }

    /// The description it was started from (with the state folder made absolute).
    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// What the preparation did (the PKI report).
    pub fn prepared(&self) -> &Prepared {
        &self.prepared
    }

    /// `program`'s lines, across restarts.
    pub fn log(&self, program: Program) -> &ProgramLog {
        &self.logs[index(program)]
    }

    /// The process id of `program`, while it runs (to read its `/proc` figures).
    pub fn pid(&self, program: Program) -> Option<u32> {
        self.lock()[index(program)].as_ref().map(Running::pid)
    }

    /// When `program` (its current run, after a restart) was spawned and became healthy; `None`
    /// while stopped.
    pub fn readiness(&self, program: Program) -> Option<Readiness> {
        self.lock()[index(program)]
            .as_ref()
            .map(|running| Readiness {
                spawned: running.spawned(),
                healthy: running.healthy(),
            })
    }

    /// A program that exited on its own, if any (the demo stops when one does).
    pub fn exited(&self) -> Option<(Program, ExitStatus)> {
        self.lock()
            .iter_mut()
            .flatten()
            .find_map(|running| Some((running.program(), running.exited()?)))
    }

    /// Stops one program (SIGTERM, then SIGKILL after the grace period) and returns how it
    /// exited; `None` if it was not running. The others keep running.
    pub async fn stop_program(&self, program: Program) -> Option<ExitStatus> {
        let running = self.lock()[index(program)].take()?;
        let grace = self.stack.stop_grace;
        tokio::task::spawn_blocking(move || running.stop_blocking(grace))
            .await
            .ok()
            .flatten()
    }

    /// Starts `program` again (stopping it first if it runs), on the same ports and state, and
    /// waits until it is healthy.
    pub async fn restart_program(&self, program: Program) -> Result<(), StartError> {
        self.stop_program(program).await;
        self.spawn(program)?;
        self.wait_healthy(&[program]).await
    }

    /// Stops every program: SIGTERM to all, then each gets the grace period before SIGKILL.
    pub async fn stop(self) {
        let mut running = self.take_all();
        for program in &mut running {
            program.terminate();
        }
        let grace = self.stack.stop_grace;
        let _ = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + grace;
            for program in running {
                program.wait_blocking(deadline.saturating_duration_since(Instant::now()));
            }
        })
        .await;
    }

    fn take_all(&self) -> Vec<Running> {
        self.lock().iter_mut().filter_map(Option::take).collect()
    }

    fn spawn(&self, program: Program) -> Result<(), StartError> {
        let running = Running::spawn(&self.stack, program, &self.logs[index(program)])
            .map_err(|source| StartError::Spawn { program, source })?;
        self.lock()[index(program)] = Some(running);
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Option<Running>>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Probes each of `programs` until all answer 200, one of them exits, or the stack's health
    /// timeout passes.
    async fn wait_healthy(&self, programs: &[Program]) -> Result<(), StartError> {
        let deadline = Instant::now() + self.stack.health_timeout;
        let mut waiting: Vec<Program> = programs.to_vec();
        loop {
            let mut still = Vec::new();
            let mut last_answer = String::new();
            // Any program, not only those waited for: one healthy a moment ago may have died.
            self.fail_if_one_exited()?;
            for program in waiting {
                match self.probe(program).await {
                    Ok(()) => {
                        let at = Instant::now();
                        if let Some(running) = self.lock()[index(program)].as_mut() {
                            running.mark_healthy(at);
                        }
                    }
                    Err(answer) => {
                        still.push(program);
                        if last_answer.is_empty() {
                            last_answer = answer;
                        }
                    }
                }
            }
            let Some(&first) = still.first() else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                return Err(StartError::Unhealthy {
                    program: first,
                    timeout: self.stack.health_timeout,
                    url: self.stack.health_url(first),
                    last_answer,
                    last_lines: self.log(first).tail(QUOTED_LINES),
                });
            }
            waiting = still;
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    /// An error naming a program that has exited, with its output drained first, so the error
    /// quotes all of it.
    fn fail_if_one_exited(&self) -> Result<(), StartError> {
        let mut running = self.lock();
        let found = running
            .iter_mut()
            .enumerate()
            .find_map(|(at, slot)| Some((at, slot.as_mut()?.exited()?)));
        let Some((exited, status)) =
            found.and_then(|(at, status)| Some((running[at].take()?, status)))
        else {
            return Ok(());
        };
        drop(running);
        let program = exited.program();
        exited.wait_blocking(Duration::ZERO);
        Err(StartError::Exited {
            program,
            status,
            last_lines: self.log(program).tail(QUOTED_LINES),
        })
    }

    async fn probe(&self, program: Program) -> Result<(), String> {
        let response = self
            .probes
            .get(self.stack.health_url(program))
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if response.status() == http::StatusCode::OK {
            Ok(())
        } else {
            Err(response.status().to_string())
        }
    }
}

impl Drop for System {
    fn drop(&mut self) {
        let mut running = self.take_all();
        for program in &mut running {
            program.terminate();
        }
        let deadline = Instant::now() + self.stack.stop_grace;
        for program in running {
            program.wait_blocking(deadline.saturating_duration_since(Instant::now()));
        }
    }
}
