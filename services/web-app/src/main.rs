//! `web-app`: parse the configuration, set up telemetry, serve until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use clap::Parser as _;
use telemetry::LogFormat;
use web_app::App;
use web_app::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match LogFormat::from_env() {
        Ok(format) => format,
        Err(error) => return fail(&error.into()),
    };
    if let Err(error) = telemetry::init(wire::Program::WebApp.name(), format) {
        return fail(&error.into());
    }
    let config = match cli.config() {
        Ok(config) => config,
        Err(error) => return fail(&error.into()),
    };
    let app = match App::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "the web app cannot start");
            return fail(&error.into());
        }
    };
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the web app stopped serving");
            fail(&error.into())
        }
    }
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
    eprintln!("web-app: {error:#}");
    ExitCode::FAILURE
}
