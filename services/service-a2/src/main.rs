//! `service-a2`: parse the configuration, set up telemetry, serve until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use clap::Parser as _;
use service_a2::{App, Config};
use wire::Program;

const PROGRAM: Program = Program::ServiceA2;

fn main() -> ExitCode {
    let config = Config::parse();
    match mesh::process::runtime(config.worker_threads) {
        Ok(runtime) => runtime.block_on(serve(config)),
        Err(error) => fail(&error.into()),
    }
}

async fn serve(config: Config) -> ExitCode {
    if let Err(error) = mesh::process::init_telemetry(PROGRAM) {
        return fail(&error);
    }
    let app = match App::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "Service A2 cannot start");
            return fail(&error.into());
        }
    };
    match app
        .run_until_stopped(mesh::process::shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "Service A2 stopped serving");
            fail(&error.into())
        }
    }
}

fn fail(error: &anyhow::Error) -> ExitCode {
    mesh::process::fail(PROGRAM, error)
}
