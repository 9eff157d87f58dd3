//! A dev PKI in a temporary directory: a CA and an SVID for every workload.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use dev_pki::DevPkiConfig;
use tempfile::TempDir;
use workload_identity::workloads::{self, Workload};
use workload_identity::{FileSource, IdentityFiles, SpiffeId, TrustDomain};

pub struct TestPki {
    dir: TempDir,
    pub trust_domain: TrustDomain,
}

impl TestPki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let trust_domain = TrustDomain::new(workloads::DEV_TRUST_DOMAIN).unwrap();
        dev_pki::ensure(
            &DevPkiConfig::new(dir.path(), trust_domain.clone()),
            SystemTime::now(),
        )
        .unwrap();
        Self { dir, trust_domain }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn source(&self, workload: Workload) -> Arc<FileSource> {
        FileSource::load(IdentityFiles::in_pki_dir(self.dir(), workload.name())).unwrap()
    }

    pub fn id(&self, workload: Workload) -> SpiffeId {
        workload.spiffe_id(&self.trust_domain)
    }
}
