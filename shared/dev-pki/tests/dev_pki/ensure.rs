//! Idempotence, renewal and replacement decisions of `ensure`.

use std::fs;
use std::path::Path;

use dev_pki::{CA_KEY_FILE, Outcome, Reason, Report};
use workload_identity::workloads::{self, AGENT_B};
use workload_identity::{BUNDLE_FILE, IdentityFiles, TrustDomain};

use crate::support::{HOUR, config, fresh, run, snapshot};

fn svid_outcomes(report: &Report) -> Vec<Outcome> {
    report
        .svids
        .iter()
        .map(|svid| svid.outcome.clone())
        .collect()
}

fn all(outcome: Outcome) -> Vec<Outcome> {
    vec![outcome; workloads::ALL.len()]
}

fn svid_files(dir: &Path) -> Vec<Vec<u8>> {
    workloads::ALL
        .iter()
        .flat_map(|workload| {
            let files = IdentityFiles::in_pki_dir(dir, workload.name());
            [fs::read(files.svid).unwrap(), fs::read(files.key).unwrap()]
        })
        .collect()
}

#[test]
fn the_first_run_creates_everything() {
    let (dir, _, report) = fresh();
    assert_eq!(report.ca.outcome, Outcome::Created);
    assert_eq!(svid_outcomes(&report), all(Outcome::Created));
    let names: Vec<_> = report
        .svids
        .iter()
        .map(|svid| svid.spiffe_id.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "spiffe://demo.test/ns/namespace-a/sa/web-app",
            "spiffe://demo.test/ns/namespace-b/sa/agent-b",
            "spiffe://demo.test/ns/namespace-a/sa/agent-a",
            "spiffe://demo.test/ns/namespace-a/sa/service-a2",
            "spiffe://demo.test/ns/internal/sa/internal-iam",
        ]
    );
    // 2 CA files and 2 files per workload, nothing else (no temporary files left behind).
    assert_eq!(snapshot(dir.path()).len(), 2 + 2 * workloads::ALL.len());
}

#[test]
fn a_second_run_keeps_every_file_byte_identical() {
    let (dir, now, _) = fresh();
    let before = snapshot(dir.path());
    let report = run(&config(dir.path()), now + HOUR);
    assert_eq!(report.ca.outcome, Outcome::Kept);
    assert_eq!(svid_outcomes(&report), all(Outcome::Kept));
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn renew_replaces_the_svids_and_keeps_the_ca() {
    let (dir, now, _) = fresh();
    let ca_before = (
        fs::read(dir.path().join(BUNDLE_FILE)).unwrap(),
        fs::read(dir.path().join(CA_KEY_FILE)).unwrap(),
    );
    let svids_before = svid_files(dir.path());

    let mut renew = config(dir.path());
    renew.renew = true;
    let report = run(&renew, now);

    assert_eq!(report.ca.outcome, Outcome::Kept);
    assert_eq!(
        svid_outcomes(&report),
        all(Outcome::Renewed(Reason::Requested))
    );
    let ca_after = (
        fs::read(dir.path().join(BUNDLE_FILE)).unwrap(),
        fs::read(dir.path().join(CA_KEY_FILE)).unwrap(),
    );
    assert_eq!(ca_after, ca_before);
    let svids_after = svid_files(dir.path());
    for (before, after) in svids_before.iter().zip(&svids_after) {
        assert_ne!(before, after);
    }
}

#[test]
fn svids_in_the_second_half_of_their_life_are_renewed() {
    let (dir, now, _) = fresh();
    // 13 hours into a 24-hour SVID: less than the 12-hour threshold left.
    let report = run(&config(dir.path()), now + 13 * HOUR);
    assert_eq!(report.ca.outcome, Outcome::Kept);
    assert_eq!(
        svid_outcomes(&report),
        all(Outcome::Renewed(Reason::ExpiresWithin(12 * HOUR)))
    );
    // The new ones are fresh again.
    let report = run(&config(dir.path()), now + 14 * HOUR);
    assert_eq!(svid_outcomes(&report), all(Outcome::Kept));
}

#[test]
fn a_missing_or_damaged_svid_is_replaced_alone() {
    let (dir, now, _) = fresh();
    let files = IdentityFiles::in_pki_dir(dir.path(), AGENT_B.name());
    fs::write(&files.svid, "damaged").unwrap();
    fs::remove_file(IdentityFiles::in_pki_dir(dir.path(), "web-app").svid).unwrap();
    fs::remove_dir_all(dir.path().join("agent-a")).unwrap();

    let report = run(&config(dir.path()), now);
    assert_eq!(report.ca.outcome, Outcome::Kept);
    let outcomes = svid_outcomes(&report);
    assert!(
        matches!(&outcomes[0], Outcome::Renewed(Reason::Invalid(why)) if why.contains("missing"))
    );
    assert!(
        matches!(&outcomes[1], Outcome::Renewed(Reason::Invalid(why)) if why.contains("no certificate"))
    );
    assert_eq!(outcomes[2], Outcome::Created);
    assert_eq!(outcomes[3..], [Outcome::Kept, Outcome::Kept]);
}

#[test]
fn a_lost_ca_key_replaces_the_ca_and_every_svid() {
    let (dir, now, _) = fresh();
    let bundle_before = fs::read(dir.path().join(BUNDLE_FILE)).unwrap();
    fs::remove_file(dir.path().join(CA_KEY_FILE)).unwrap();

    let report = run(&config(dir.path()), now);
    assert!(
        matches!(&report.ca.outcome, Outcome::Renewed(Reason::Invalid(why)) if why.contains(CA_KEY_FILE))
    );
    assert_eq!(svid_outcomes(&report), all(Outcome::Renewed(Reason::NewCa)));
    assert_ne!(
        fs::read(dir.path().join(BUNDLE_FILE)).unwrap(),
        bundle_before
    );
    // And the result is stable.
    let report = run(&config(dir.path()), now);
    assert_eq!(report.ca.outcome, Outcome::Kept);
    assert_eq!(svid_outcomes(&report), all(Outcome::Kept));
}

#[test]
fn a_ca_key_that_does_not_match_replaces_the_ca() {
    let (dir, now, _) = fresh();
    let (other, _, _) = fresh();
    fs::copy(other.path().join(CA_KEY_FILE), dir.path().join(CA_KEY_FILE)).unwrap();
    let report = run(&config(dir.path()), now);
    assert!(
        matches!(&report.ca.outcome, Outcome::Renewed(Reason::Invalid(why)) if why.contains("does not belong"))
    );
    assert_eq!(svid_outcomes(&report), all(Outcome::Renewed(Reason::NewCa)));
}

#[test]
fn a_ca_about_to_expire_is_replaced() {
    let (dir, now, _) = fresh();
    // A year minus half a day later, the CA could not cover a 24-hour SVID.
    let later = now + dev_pki::DEFAULT_CA_TTL - 12 * HOUR;
    let report = run(&config(dir.path()), later);
    assert!(
        matches!(&report.ca.outcome, Outcome::Renewed(Reason::Invalid(why)) if why.contains("expires"))
    );
    assert_eq!(svid_outcomes(&report), all(Outcome::Renewed(Reason::NewCa)));
}

#[test]
fn another_trust_domain_gets_its_own_ca() {
    let (dir, now, _) = fresh();
    let other = TrustDomain::new("other.test").unwrap();
    let report = run(&dev_pki::DevPkiConfig::new(dir.path(), other.clone()), now);
    assert!(
        matches!(&report.ca.outcome, Outcome::Renewed(Reason::Invalid(why)) if why.contains("spiffe://other.test"))
    );
    assert!(
        report
            .svids
            .iter()
            .all(|svid| svid.spiffe_id.is_member_of(&other))
    );
    assert_eq!(svid_outcomes(&report), all(Outcome::Renewed(Reason::NewCa)));
}

#[test]
fn the_report_names_material_but_never_keys() {
    let (dir, _, report) = fresh();
    let text = report.to_string();
    assert!(text.contains("spiffe://demo.test/ns/namespace-b/sa/agent-b"));
    assert!(text.contains("created"));
    assert!(!text.contains("PRIVATE KEY"));
    let key = fs::read_to_string(dir.path().join(CA_KEY_FILE)).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    assert!(!text.contains(key_body));
}

#[test]
fn a_ca_not_valid_yet_is_replaced() {
    let (dir, now, _) = fresh();
    // A clock set a day back sees a CA from the future.
    let report = run(&config(dir.path()), now - 24 * HOUR);
    assert!(
        matches!(&report.ca.outcome, Outcome::Renewed(Reason::Invalid(why)) if why.contains("not valid yet"))
    );
    assert_eq!(svid_outcomes(&report), all(Outcome::Renewed(Reason::NewCa)));
}

#[test]
fn a_bundle_that_is_not_a_ca_replaces_the_ca() {
    let (dir, now, _) = fresh();
    let leaf = IdentityFiles::in_pki_dir(dir.path(), AGENT_B.name()).svid;
    fs::copy(leaf, dir.path().join(BUNDLE_FILE)).unwrap();
    let report = run(&config(dir.path()), now);
    assert!(
        matches!(&report.ca.outcome, Outcome::Renewed(Reason::Invalid(why)) if why.contains("not a CA"))
    );
    assert_eq!(svid_outcomes(&report), all(Outcome::Renewed(Reason::NewCa)));
}

#[test]
fn an_svid_of_the_wrong_workload_is_replaced() {
    let (dir, now, _) = fresh();
    let agent_b = IdentityFiles::in_pki_dir(dir.path(), AGENT_B.name());
    let agent_a = IdentityFiles::in_pki_dir(dir.path(), "agent-a");
    fs::copy(&agent_a.svid, &agent_b.svid).unwrap();
    fs::copy(&agent_a.key, &agent_b.key).unwrap();
    let report = run(&config(dir.path()), now);
    assert!(
        matches!(&report.svids[1].outcome, Outcome::Renewed(Reason::Invalid(why)) if why.contains("names spiffe://demo.test/ns/namespace-a/sa/agent-a"))
    );
}
