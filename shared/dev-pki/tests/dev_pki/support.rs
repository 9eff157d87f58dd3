//! A dev PKI in a temporary directory, and snapshots of its files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use dev_pki::{DevPkiConfig, Report};
use tempfile::TempDir;
use workload_identity::TrustDomain;
use workload_identity::workloads::DEV_TRUST_DOMAIN;

pub const HOUR: Duration = Duration::from_secs(3600);

pub fn demo() -> TrustDomain {
    TrustDomain::new(DEV_TRUST_DOMAIN).unwrap()
}

pub fn config(dir: &Path) -> DevPkiConfig {
    DevPkiConfig::new(dir, demo())
}

pub fn run(config: &DevPkiConfig, now: SystemTime) -> Report {
    dev_pki::ensure(config, now).unwrap()
}

pub fn fresh() -> (TempDir, SystemTime, Report) {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let report = run(&config(dir.path()), now);
    (dir, now, report)
}

/// Every file under `dir`, by relative path, with its contents.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    collect(dir, dir, &mut files);
    files
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let contents = std::fs::read(&path).unwrap();
            files.insert(path.strip_prefix(root).unwrap().to_owned(), contents);
        }
    }
}
