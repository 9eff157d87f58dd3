//! The operator commands of the real binary, on a database of their own.

use std::process::Command;

use external_iam::mfa::Totp;

fn run(db: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_external-iam"))
        .args(args)
        .env("EXTERNAL_IAM_DATABASE_URL", db)
        .env("EXTERNAL_IAM_USER_PASSWORD", "a-long-enough-password")
        .env_remove("EXTERNAL_IAM_WEB_APP_SECRET")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fails(db: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_external-iam"))
        .args(args)
        .env("EXTERNAL_IAM_DATABASE_URL", db)
        .env("EXTERNAL_IAM_USER_PASSWORD", "a-long-enough-password")
        .output()
        .unwrap();
    assert!(!output.status.success(), "{args:?} should fail");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn seed_users_clients_keys_and_totp() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());

    let seeded = run(&db, &["seed-demo"]);
    assert!(seeded.contains("alice") && seeded.contains("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"));
    // Idempotent.
    run(&db, &["seed-demo"]);
    let users = run(&db, &["users", "list"]);
    assert!(
        users.contains("alice\tdemo-user-alice\tchatbot:access agent:invoke"),
        "{users}"
    );
    assert!(
        users.contains("carol\tdemo-user-carol\tagent:invoke"),
        "{users}"
    );

    // The dev helper prints what an authenticator shows now (or a step earlier, at a boundary).
    let printed = run(&db, &["totp", "now", "alice"]);
    let totp = Totp::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
    let now = tokens::Clock::now(&tokens::SystemClock);
    assert!([totp.code_at(now), totp.code_at(now - 30)].contains(&printed.trim().to_owned()));

    let added = run(
        &db,
        &["users", "add", "dave", "--entitle", "chatbot:access"],
    );
    assert!(
        added.contains("otpauth://totp/Demo%20Identity:dave?secret="),
        "{added}"
    );
    let reset = run(&db, &["users", "reset-totp", "dave"]);
    assert!(reset.contains("otpauth://"));
    run(&db, &["users", "set-password", "dave"]);
    assert!(fails(&db, &["users", "set-password", "nobody"]).contains("no user"));

    let client = run(
        &db,
        &[
            "clients",
            "add",
            "cli-app",
            "--redirect-uri",
            "https://app.example/cb",
            "--scope",
            "openid",
        ],
    );
    assert!(client.contains("client secret (shown once): "), "{client}");
    assert!(run(&db, &["clients", "list"]).contains("cli-app\tclient_secret_basic"));
    let refused = fails(
        &db,
        &[
            "clients",
            "add",
            "bad-app",
            "--redirect-uri",
            "http://app.example/cb",
            "--scope",
            "openid",
        ],
    );
    assert!(refused.contains("https"), "{refused}");
    run(&db, &["clients", "remove", "cli-app"]);
    assert!(!run(&db, &["clients", "list"]).contains("cli-app"));

    let keys = run(&db, &["keys", "list"]);
    assert_eq!(keys.lines().count(), 1);
    assert!(keys.contains("\tactive\t"));
    let rotated = run(&db, &["keys", "rotate", "--delay", "600"]);
    assert!(rotated.contains("published now"));
    let keys = run(&db, &["keys", "list"]);
    assert!(
        keys.contains("\tstaged\t") && keys.contains("\tactive\t"),
        "{keys}"
    );
}
