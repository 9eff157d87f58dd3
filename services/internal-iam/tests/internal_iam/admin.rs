//! The `internal-iam` binary's admin subcommands, run as a separate process on the database.

use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use storage::Database;
use storage::signing_keys::KeyStore;
use workload_identity::workloads::AGENT_B;

use crate::support::TestIam;
use crate::support::iam::{CROSS_NS, SERVICE_A, policy_file};

fn run(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_internal-iam"))
        .args(args)
        .env("INTERNAL_IAM_DATABASE_URL", db_url)
        .env_remove("INTERNAL_IAM_TRUST_DOMAIN")
        .output()
        .unwrap()
}

fn ok(db_url: &str, args: &[&str]) -> String {
    let output = run(db_url, args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fails(db_url: &str, args: &[&str]) -> String {
    let output = run(db_url, args);
    assert!(!output.status.success(), "{args:?} succeeded");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn registrations_are_seeded_idempotently_and_managed_by_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("iam.db").display());
    let policy = policy_file();
    let policy = policy.to_str().unwrap();

    assert_eq!(
        ok(&db, &["seed", "--policy", policy]),
        format!("seeded 1 registration(s) from {policy}\n")
    );
    let listed = ok(&db, &["registrations", "list"]);
    ok(&db, &["seed", "--policy", policy]);
    assert_eq!(
        ok(&db, &["registrations", "list"]),
        listed,
        "seeding twice changes nothing"
    );
    assert!(listed.starts_with(
        "spiffe://demo.test/ns/namespace-b/sa/agent-b grants=agent-service-a=[cross-namespace:invoke] exchange=https://agent-b.namespace-b.demo.test "
    ), "{listed}");

    let agent_a = "spiffe://demo.test/ns/namespace-a/sa/agent-a";
    ok(
        &db,
        &[
            "registrations",
            "add",
            agent_a,
            "--grant",
            "service-a2=accounts:read",
        ],
    );
    let error = fails(&db, &["registrations", "add", agent_a, "--grant", "x=y"]);
    assert!(
        error.contains("is already registered; use --replace"),
        "{error}"
    );
    ok(
        &db,
        &[
            "registrations",
            "add",
            agent_a,
            "--grant",
            "x=y z",
            "--replace",
        ],
    );
    let listed = ok(&db, &["registrations", "list"]);
    assert!(
        listed.contains(&format!("{agent_a} grants=x=[y z] exchange=-")),
        "{listed}"
    );

    let error = fails(
        &db,
        &[
            "registrations",
            "add",
            "spiffe://other.test/ns/a/sa/b",
            "--grant",
            "x=y",
        ],
    );
    assert!(
        error.contains("outside the trust domain demo.test"),
        "{error}"
    );
    let error = fails(
        &db,
        &["registrations", "add", agent_a, "--grant", "no-scopes"],
    );
    assert!(
        error.contains("is not of the form AUDIENCE=SCOPE"),
        "{error}"
    );

    assert_eq!(
        ok(&db, &["registrations", "remove", agent_a]),
        format!("removed {agent_a}\n")
    );
    let error = fails(&db, &["registrations", "remove", agent_a]);
    assert!(error.contains("is not registered"), "{error}");
}

#[tokio::test]
async fn keys_are_rotated_and_listed_by_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("iam.db").display());
    let error = fails(&db_url, &["keys", "rotate"]);
    assert!(error.contains("no signing key is active yet"), "{error}");

    let db = Database::connect(&db_url).await.unwrap();
    db.migrate(&internal_iam::MIGRATOR).await.unwrap();
    let store = KeyStore::new(
        db,
        Arc::new(tokens::SystemClock),
        internal_iam::MAX_TOKEN_LIFETIME,
    );
    store.ensure_key().await.unwrap();
    let active = store.list().await.unwrap()[0].kid.clone();

    let rotated = ok(&db_url, &["keys", "rotate", "--delay", "5m"]);
    assert!(rotated.starts_with("staged "), "{rotated}");
    assert!(rotated.contains("(in 300s)"), "{rotated}");
    let listed = ok(&db_url, &["keys", "list"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with(&format!("{active} ES256 active ")),
        "{listed}"
    );
    assert!(lines[1].contains(" ES256 staged "), "{listed}");
    let error = fails(&db_url, &["keys", "rotate"]);
    assert!(error.contains("is already staged"), "{error}");
}

#[tokio::test]
async fn the_audit_is_queryable_from_the_command_line() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let params = [
        ("grant_type", "client_credentials"),
        ("audience", SERVICE_A),
        ("scope", CROSS_NS),
    ];
    let token = iam.token(&client, &params).await;
    let claims = iam
        .verify_service_token(token["access_token"].as_str().unwrap())
        .await;
    iam.refused(&client, &[("grant_type", "password")]).await;
    iam.handles.audit.flush().await;

    let db_url = iam.db_url.clone();
    let issued = ok(
        &db_url,
        &[
            "audit",
            "list",
            "--json",
            "--outcome",
            "issued",
            "--grant-type",
            "client_credentials",
        ],
    );
    let rows: Vec<Value> = issued
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{issued}");
    assert_eq!(rows[0]["jti"], claims.jti.as_str());
    assert_eq!(rows[0]["spiffe_id"], iam.pki.id(AGENT_B).as_str());
    assert_eq!(rows[0]["audience"], SERVICE_A);

    let everything = ok(&db_url, &["audit", "list"]);
    let lines: Vec<&str> = everything.lines().collect();
    assert_eq!(lines.len(), 2, "{everything}");
    assert!(lines[1].contains(" refused grant=- "), "{everything}");
    assert!(
        lines[1].contains("error=unsupported_grant_type"),
        "{everything}"
    );
    let newest = ok(&db_url, &["audit", "list", "--limit", "1", "--json"]);
    assert_eq!(newest.lines().count(), 1);
    assert!(newest.contains("unsupported_grant_type"));
    iam.stop().await;
}
