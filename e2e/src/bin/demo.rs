//! `make demo`: the six programs on their default ports (the web app at http://localhost:8080),
//! state in `var/` (the dev PKI in `var/pki`, created if missing and kept while valid, as
//! `make pki` does), every program's lines on stdout with its name in front. Prints the URL and
//! the demo users once all six are healthy; Ctrl-C or SIGTERM stops them all. Works without a
//! terminal (`make demo > demo.log 2>&1 &`).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the launcher's output is for the person who started it"
)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use e2e::{Binaries, Ports, Program, Stack, System};
use external_iam::admin::{TOTP_ISSUER, demo};
use external_iam::mfa::Totp;

/// Lines of each program kept in memory, to quote when one fails (all of them are in the log
/// files).
const KEEP_LINES: usize = 200;
/// How often the launcher checks that no program has exited on its own.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Runs the whole system locally for a person to try: http://localhost:8080.
#[derive(Debug, Parser)]
#[command(name = "demo", version, about)]
struct Cli {
    /// The state folder: dev PKI (`<dir>/pki`), databases (`<dir>/<program>/<program>.db`),
    /// logs (`<dir>/logs/<program>.log`).
    #[arg(long, env = "DEMO_STATE_DIR", default_value = "var")]
    state_dir: PathBuf,
    /// The repository's `infra/` folder: the internal IAM's policy and Service A2's records.
    #[arg(long, env = "DEMO_INFRA_DIR", default_value = "infra")]
    infra_dir: PathBuf,
    /// Where the six programs' executables are. Default: beside this one.
    #[arg(long, env = "DEMO_BIN_DIR")]
    bin_dir: Option<PathBuf>,
    /// How long the six programs together may take to become healthy, in seconds.
    #[arg(long, env = "DEMO_HEALTH_TIMEOUT", default_value_t = 60)]
    health_timeout: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let binaries = match &cli.bin_dir {
        Some(dir) => Binaries::in_dir(dir),
        None => match Binaries::beside_current_exe() {
            Ok(binaries) => binaries,
            Err(error) => return fail(&format!("cannot find the programs: {error}")),
        },
    };
    let mut stack = Stack::new(Ports::DEMO, &cli.state_dir, &cli.infra_dir, binaries);
    stack.echo = true;
    stack.keep_lines = Some(KEEP_LINES);
    stack.health_timeout = Duration::from_secs(cli.health_timeout);

    println!(
        "Starting the six programs (state in {}/) ...",
        cli.state_dir.display()
    );
    let system = match System::start(stack).await {
        Ok(system) => system,
        Err(error) => return fail(&error.to_string()),
    };
    say(&banner(&system, &cli));

    let stopped_by = wait_for_stop(&system).await;
    let code = match stopped_by {
        Stop::Signal(name) => {
            say(&format!("{name} received: stopping the six programs ..."));
            ExitCode::SUCCESS
        }
        Stop::Exited(program, status) => {
            eprintln!(
                "demo: {} exited on its own ({status}); stopping the others. Its last lines are above and in {}.",
                program.name(),
                system.stack().log_file(program).display()
            );
            ExitCode::FAILURE
        }
    };
    system.stop().await;
    say("All six programs stopped.");
    code
}

enum Stop {
    Signal(&'static str),
    Exited(Program, std::process::ExitStatus),
}

/// Ctrl-C (SIGINT), SIGTERM, or a program that exits on its own.
async fn wait_for_stop(system: &System) -> Stop {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    // Registered once, before the loop, so a signal between two rounds is not missed.
    let listen = |kind: SignalKind| match signal(kind) {
        Ok(signal) => Some(signal),
        Err(error) => {
            eprintln!("demo: cannot handle a signal ({error})");
            None
        }
    };
    let (mut interrupt, mut terminate) = (
        listen(SignalKind::interrupt()),
        listen(SignalKind::terminate()),
    );
    async fn received(signal: &mut Option<Signal>) {
        if let Some(signal) = signal
            && signal.recv().await.is_some()
        {
            return;
        }
        std::future::pending().await
    }
    let mut watch = tokio::time::interval(WATCH_INTERVAL);
    loop {
        tokio::select! {
            // Signals first: Ctrl-C at a terminal reaches the programs too, and their exit
            // is then expected, not a failure to report.
            biased;
            () = received(&mut interrupt) => return Stop::Signal("Ctrl-C"),
            () = received(&mut terminate) => return Stop::Signal("SIGTERM"),
            _ = watch.tick() => {
                if let Some((program, status)) = system.exited() {
                    return Stop::Exited(program, status);
                }
            }
        }
    }
}

/// What a person needs once everything is up.
fn banner(system: &System, cli: &Cli) -> String {
    let stack = system.stack();
    let state = cli.state_dir.display();
    let rule = "-".repeat(78);
    let mut text = String::new();
    let _ = writeln!(text, "{rule}");
    let _ = writeln!(text, "The demo is running: open {}", stack.web_url());
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "Demo users (development only: their passwords and TOTP secrets are public):"
    );
    for user in demo::USERS {
        let access = if user.entitlements.contains(&wire::scopes::CHATBOT_ACCESS) {
            "may use the chatbot".to_owned()
        } else {
            format!(
                "signs in, but lacks {} (the web app answers 403)",
                wire::scopes::CHATBOT_ACCESS
            )
        };
        let _ = writeln!(
            text,
            "  {:<6} password {:<20} {access}",
            user.username, user.password
        );
    }
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "The second factor is a TOTP code (RFC 6238: SHA-1, 6 digits, 30 s)."
    );
    let _ = writeln!(
        text,
        "  The current code:  make totp USER=alice   (in another terminal)"
    );
    let _ = writeln!(text, "  Or add the account to an authenticator app:");
    for user in demo::USERS {
        if let Ok(totp) = Totp::from_base32(user.totp_secret) {
            let _ = writeln!(
                text,
                "    {:<6} {}",
                user.username,
                totp.otpauth_uri(TOTP_ISSUER, user.username)
            );
        }
    }
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "Ask: \"What is my balance?\", \"Show my orders\", \"What is in my profile?\", \"Hello\"."
    );
    let _ = writeln!(text, "Programs (all on 127.0.0.1):");
    for program in Program::ALL {
        let ports = &stack.ports;
        let _ = writeln!(
            text,
            "  {:<12} port {:<5} health {}",
            program.name(),
            ports.main(program),
            stack.health_url(program)
        );
    }
    let _ = writeln!(
        text,
        "State in {state}/: dev PKI in {state}/pki, databases, logs in {state}/logs/."
    );
    let _ = writeln!(text, "Stop with Ctrl-C (or SIGTERM).");
    let _ = write!(text, "{rule}");
    text
}

/// One block on stdout, not interleaved with the programs' lines.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn fail(message: &str) -> ExitCode {
    eprintln!("demo: {message}");
    ExitCode::FAILURE
}
