//! The `dev-pki` binary.

use std::process::Command;

fn dev_pki(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dev-pki"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap();
    (output.status.success(), text)
}

#[test]
fn help_documents_every_option() {
    let (ok, help) = dev_pki(&["--help"]);
    assert!(ok);
    for option in [
        "--dir",
        "--trust-domain",
        "--svid-ttl-hours",
        "--renew",
        "var/pki",
        "demo.test",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

#[test]
fn creates_then_keeps_then_renews_and_never_prints_keys() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let pki = pki.to_str().unwrap();

    let (ok, first) = dev_pki(&["--dir", pki, "--svid-ttl-hours", "2"]);
    assert!(ok, "{first}");
    assert_eq!(first.matches("created").count(), 6, "{first}");

    let (ok, second) = dev_pki(&["--dir", pki, "--svid-ttl-hours", "2"]);
    assert!(ok, "{second}");
    assert_eq!(second.matches("kept").count(), 6, "{second}");

    let (ok, third) = dev_pki(&["--dir", pki, "--renew"]);
    assert!(ok, "{third}");
    assert_eq!(third.matches("renewed (requested)").count(), 5, "{third}");

    for output in [first, second, third] {
        assert!(!output.contains("PRIVATE KEY"));
    }
}

#[test]
fn an_invalid_trust_domain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, error) = dev_pki(&[
        "--dir",
        dir.path().to_str().unwrap(),
        "--trust-domain",
        "Demo.Test",
    ]);
    assert!(!ok);
    assert!(error.contains("lowercase"), "{error}");
}

#[test]
fn an_out_of_range_lifetime_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, error) = dev_pki(&[
        "--dir",
        dir.path().to_str().unwrap(),
        "--svid-ttl-hours",
        "0",
    ]);
    assert!(!ok);
    assert!(error.contains("--svid-ttl-hours"), "{error}");
}
