//! `agent-b`: parse the configuration, set up telemetry, serve until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use agent_b::{App, Config};
use clap::Parser as _;
use telemetry::LogFormat;

fn main() -> ExitCode {
    let config = Config::parse();
    // A small multi-threaded runtime: enough for this workload, small when idle (see
    // `--worker-threads`).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(config.worker_threads))
        .max_blocking_threads(4)
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve(config)),
        Err(error) => fail(&error.into()),
    }
}

async fn serve(config: Config) -> ExitCode {
    let format = match LogFormat::from_env() {
        Ok(format) => format,
        Err(error) => return fail(&error.into()),
    };
    if let Err(error) = telemetry::init(wire::Program::AgentB.name(), format) {
        return fail(&error.into());
    }
    let app = match App::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "Agent B cannot start");
            return fail(&error.into());
        }
    };
    app.run_until_stopped(shutdown_signal()).await;
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM from a container runtime.
async fn shutdown_signal() {
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

// The binary's one place that prints: the reason it stops.
#[allow(clippy::print_stderr)]
fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("agent-b: {error:#}");
    ExitCode::FAILURE
}
