//! What a workload's thin `main` needs around its `App`: the runtime, the shutdown signal, and
//! the one line it prints when it stops.

use std::io;
use std::process::ExitCode;

/// A small multi-threaded runtime: enough for these workloads, small when idle (each program's
/// `--worker-threads`).
pub fn runtime(worker_threads: u16) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(worker_threads))
        .max_blocking_threads(4)
        .enable_all()
        .build()
}

/// Ctrl-C, or SIGTERM from a container runtime.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Telemetry for `program`, in the log format the environment asks for.
pub fn init_telemetry(program: wire::Program) -> anyhow::Result<()> {
    let format = telemetry::LogFormat::from_env()?;
    telemetry::init(program.name(), format)?;
    Ok(())
}

/// Prints why `program` stops (the binary's one place that prints) and returns the failure
/// exit code.
#[allow(clippy::print_stderr)]
pub fn fail(program: wire::Program, error: &anyhow::Error) -> ExitCode {
    eprintln!(
        "{}: {}",
        program.name(),
        telemetry::ErrorReport(error.as_ref())
    );
    ExitCode::FAILURE
}
