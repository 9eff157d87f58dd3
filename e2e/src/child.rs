//! One running program: a child process whose output is drained into its [`ProgramLog`], stopped
//! with SIGTERM and, after a grace period, SIGKILL.

use std::io;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};
use wire::Program;

use crate::logs::ProgramLog;
use crate::stack::{MALLOC_MMAP_THRESHOLD, Stack, TOKIO_WORKER_THREADS};

/// How often a stopping program is checked for having exited.
const POLL: Duration = Duration::from_millis(20);

/// A started program.
#[derive(Debug)]
pub(crate) struct Running {
    program: Program,
    child: Child,
    drains: Vec<JoinHandle<()>>,
    /// When it was spawned, and when it first answered its health endpoint: how long the
    /// program takes to become ready (the start-up figure of the end-to-end benchmark).
    spawned: Instant,
    healthy: Option<Instant>,
}

impl Running {
    /// Starts `program` as `stack` describes, its stdout and stderr drained into `log`.
    pub(crate) fn spawn(
        stack: &Stack,
        program: Program,
        log: &Arc<ProgramLog>,
    ) -> io::Result<Self> {
        let path = stack.binaries.path(program).map_err(io::Error::other)?;
        let mut command = Command::new(path);
        command
            .args(stack.serve_args(program))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        scrub_environment(&mut command);
        command.env(
            telemetry::LOG_FORMAT_VAR,
            match stack.log_format {
                telemetry::LogFormat::Json => "json",
                telemetry::LogFormat::Human => "human",
            },
        );
        command.envs(stack.serve_env(program));
        let mut running = Self {
            program,
            spawned: Instant::now(),
            child: command.spawn()?,
            drains: Vec::with_capacity(2),
            healthy: None,
        };
        if let Err(error) = running.drain_output(log) {
            running.stop_blocking(Duration::ZERO);
            return Err(error);
        }
        Ok(running)
    }

    /// One thread per stream, each until the stream closes.
    fn drain_output(&mut self, log: &Arc<ProgramLog>) -> io::Result<()> {
        if let Some(stdout) = self.child.stdout.take() {
            self.drains.push(log.drain(stdout)?);
        }
        if let Some(stderr) = self.child.stderr.take() {
            self.drains.push(log.drain(stderr)?);
        }
        Ok(())
    }

    pub(crate) fn program(&self) -> Program {
        self.program
    }

    /// The process id (valid while the program runs: it is reaped only when stopped).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// When it was spawned.
    pub(crate) fn spawned(&self) -> Instant {
        self.spawned
    }

    /// When it first answered its health endpoint, if it has.
    pub(crate) fn healthy(&self) -> Option<Instant> {
        self.healthy
    }

    /// Records the first healthy answer (later ones keep the first time).
    pub(crate) fn mark_healthy(&mut self, at: Instant) {
        self.healthy.get_or_insert(at);
    }

    /// The exit status, if the program has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM unless the program has exited: the programs finish the requests in flight
    /// and exit. (An exited child is never signalled: once reaped, its pid may be reused.)
    pub(crate) fn terminate(&mut self) {
        if self.exited().is_none() {
            self.signal(Signal::TERM);
        }
    }

    fn signal(&self, signal: Signal) {
        let pid = Pid::from_child(&self.child);
        // ESRCH (exited already, not yet reaped) is the only expected failure, and harmless.
        let _ = kill_process(pid, signal);
    }

    /// SIGTERM, up to `grace` for the program to exit, then SIGKILL; waits for it and for its
    /// output to be drained. Blocks the calling thread.
    pub(crate) fn stop_blocking(mut self, grace: Duration) -> Option<ExitStatus> {
        self.terminate();
        self.wait_blocking(grace)
    }

    /// Waits up to `grace` for an exit (after [`Self::terminate`]), then kills. Blocks.
    pub(crate) fn wait_blocking(mut self, grace: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + grace;
        let status = loop {
            if let Some(status) = self.exited() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                self.signal(Signal::KILL);
                break self.child.wait().ok();
            }
            std::thread::sleep(POLL);
        };
        for drain in self.drains.drain(..) {
            let _ = drain.join();
        }
        status
    }
}

/// Removes inherited variables that configure the programs (`AGENT_A_…`, `LOG_FORMAT`, ...) or
/// tune their processes ([`Stack::serve_env`]'s), so the stack's flags and variables are the
/// whole configuration (of the servers and of the operator commands). `RUST_LOG` passes through
/// on purpose: it is how someone asks for more (or less) detail.
pub(crate) fn scrub_environment(command: &mut Command) {
    let prefixes: Vec<String> = Program::ALL.iter().map(|p| Stack::env_prefix(*p)).collect();
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name == telemetry::LOG_FORMAT_VAR
            || name == TOKIO_WORKER_THREADS
            || name == MALLOC_MMAP_THRESHOLD
            || prefixes.iter().any(|p| name.starts_with(p))
        {
            command.env_remove(name);
        }
    }
}
