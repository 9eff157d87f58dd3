//! The kit's own promises: a failure to start names the program and why, and the programs are
//! stopped when the environment goes, also when a test panics.

use std::path::Path;
use std::time::Duration;

use e2e::kit::TestEnv;
use e2e::{Binaries, Ports, Program, Stack, StartError, System};

fn stack(dir: &Path) -> Stack {
    let infra = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra");
    let mut stack = Stack::new(
        Ports::free().unwrap(),
        dir,
        &infra,
        Binaries::beside_current_exe().unwrap(),
    );
    stack.health_timeout = Duration::from_secs(120);
    stack
}

#[tokio::test]
async fn a_program_that_dies_at_start_is_named_with_its_last_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut stack = stack(dir.path());
    stack.policy = dir.path().join("no-such-policy.toml");
    let error = System::start(stack).await.unwrap_err();
    let StartError::Exited {
        program,
        last_lines,
        ..
    } = &error
    else {
        panic!("expected the internal IAM to exit: {error}");
    };
    assert_eq!(*program, Program::InternalIam);
    assert!(
        last_lines
            .iter()
            .any(|line| line.contains("no-such-policy.toml")),
        "{error}"
    );
    assert!(!error.is_port_conflict());
}

#[tokio::test]
async fn a_missing_program_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut stack = stack(dir.path());
    stack.binaries = Binaries::in_dir(dir.path().join("debug"));
    let error = System::start(stack).await.unwrap_err();
    assert!(matches!(error, StartError::MissingBinary(_)), "{error}");
    assert!(
        error.to_string().contains(
            "build the programs first with `cargo build --workspace --bins` (or `make e2e`)"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_port_in_use_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path());
    let _taken = std::net::TcpListener::bind(("127.0.0.1", stack.ports.external_iam)).unwrap();
    let error = System::start(stack).await.unwrap_err();
    let StartError::PortInUse(taken) = &error else {
        panic!("expected a port in use: {error}");
    };
    assert_eq!(taken.what, "external-iam");
    assert!(error.is_port_conflict());
}

/// Whether anything still answers on `program`'s health port.
async fn answers(url: &str) -> bool {
    let client = e2e::http_client(Duration::from_secs(5)).unwrap();
    client.get(url).send().await.is_ok()
}

#[tokio::test]
async fn every_program_stops_when_a_test_panics() {
    let (urls_sender, urls) = tokio::sync::oneshot::channel();
    // The "test": starts a system, reports its health URLs, and panics with it alive.
    let test = tokio::spawn(async move {
        let env = TestEnv::start().await;
        let urls: Vec<String> = Program::ALL
            .iter()
            .map(|program| env.stack().health_url(*program))
            .collect();
        for url in &urls {
            assert!(answers(url).await, "{url} is up");
        }
        urls_sender.send(urls).unwrap();
        panic!("the test fails with the system running");
    });
    let outcome = test.await.unwrap_err();
    assert!(outcome.is_panic());
    for url in urls.await.unwrap() {
        assert!(!answers(&url).await, "{url} still answers after the panic");
    }
}

#[tokio::test]
async fn one_program_stops_and_restarts_while_the_others_run() {
    let env = TestEnv::start().await;
    let health = |program| env.stack().health_url(program);
    env.stop(Program::AgentA).await;
    let before_restart = env.lines(Program::AgentA);
    assert!(!answers(&health(Program::AgentA)).await);
    for program in [Program::WebApp, Program::AgentB, Program::ServiceA2] {
        assert!(answers(&health(program)).await, "{}", program.name());
    }
    env.restart(Program::AgentA).await;
    assert!(answers(&health(Program::AgentA)).await);
    // The log is kept across the restart, the new run's lines after the old ones.
    let lines = env.lines(Program::AgentA);
    assert!(lines.len() > before_restart.len());
    assert_eq!(lines[..before_restart.len()], before_restart[..]);
}
