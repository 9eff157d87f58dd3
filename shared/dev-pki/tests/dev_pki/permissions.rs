//! Private keys are readable by their owner only.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use dev_pki::CA_KEY_FILE;
use workload_identity::workloads;
use workload_identity::{BUNDLE_FILE, IdentityFiles};

use crate::support::{config, fresh, run, snapshot};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn key_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut keys = vec![dir.join(CA_KEY_FILE)];
    keys.extend(
        workloads::ALL
            .iter()
            .map(|workload| IdentityFiles::in_pki_dir(dir, workload.name()).key),
    );
    keys
}

#[test]
fn key_files_are_0600() {
    let (dir, _, _) = fresh();
    for key in key_files(dir.path()) {
        assert_eq!(mode(&key), 0o600, "{}", key.display());
    }
    assert_eq!(mode(&dir.path().join(BUNDLE_FILE)) & 0o077, 0o044);
}

#[test]
fn loosened_key_permissions_are_tightened_without_touching_contents() {
    let (dir, now, _) = fresh();
    let before = snapshot(dir.path());
    for key in key_files(dir.path()) {
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    }
    run(&config(dir.path()), now);
    for key in key_files(dir.path()) {
        assert_eq!(mode(&key), 0o600, "{}", key.display());
    }
    assert_eq!(snapshot(dir.path()), before);
}
