//! `internal-iam`: parse the command line, set up telemetry, run.

use std::process::ExitCode;

use clap::Parser as _;
use internal_iam::App;
use internal_iam::cli::{Cli, Command, run_admin};
use telemetry::LogFormat;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => serve(*config).await,
        admin => {
            let mut out = std::io::stdout().lock();
            match run_admin(admin, &mut out).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => fail(&error),
            }
        }
    }
}

async fn serve(config: internal_iam::Config) -> ExitCode {
    let format = match LogFormat::from_env() {
        Ok(format) => format,
        Err(error) => return fail(&error.into()),
    };
    if let Err(error) = telemetry::init(wire::Program::InternalIam.name(), format) {
        return fail(&error.into());
    }
    let app = match App::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "the internal IAM cannot start");
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
    eprintln!("internal-iam: {}", telemetry::ErrorReport(error.as_ref()));
    ExitCode::FAILURE
}
