//! `external-iam`: serves the OpenID Connect provider, or runs an operator command.
#![allow(
    clippy::print_stderr,
    reason = "a failure to start is reported on stderr even when logging is filtered or not set up"
)]

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use external_iam::App;
use external_iam::cli::{Cli, Command};
use tokens::SystemClock;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = init_logging(cli.command.as_ref()) {
        eprintln!("logging: {error}");
        return ExitCode::FAILURE;
    }
    let serving = matches!(cli.command, None | Some(Command::Serve));
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if serving {
                // Also in the log stream, where whoever runs the server is looking.
                tracing::error!("{}", telemetry::ErrorReport(error.as_ref()));
            }
            eprintln!("external-iam: {}", telemetry::ErrorReport(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// The server logs to stdout (human or JSON lines). Operator commands print their results on
/// stdout for scripts (`make totp USER=alice`), so their logs go to stderr, warnings only
/// unless `RUST_LOG` says otherwise.
fn init_logging(command: Option<&Command>) -> Result<(), telemetry::InitError> {
    let format = telemetry::LogFormat::from_env()?;
    match command {
        None | Some(Command::Serve) => telemetry::init("external-iam", format),
        Some(_) => {
            let directives = std::env::var(telemetry::FILTER_VAR).unwrap_or_else(|_| "warn".into());
            let subscriber =
                telemetry::subscriber("external-iam", format, &directives, std::io::stderr)?;
            tracing::subscriber::set_global_default(subscriber)
                .map_err(|_| telemetry::InitError::AlreadyInitialised)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config()?;
    match cli.command {
        None | Some(Command::Serve) => {
            let app = App::build(config, Arc::new(SystemClock)).await?;
            app.run_until_stopped(shutdown_signal()).await?;
            Ok(())
        }
        Some(command) => external_iam::admin::run(command, &config).await,
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
