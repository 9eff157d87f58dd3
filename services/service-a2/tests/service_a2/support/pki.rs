//! A dev PKI in a temporary directory, and its CA for certificates the dev PKI would not issue.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dev_pki::{Ca, DevPkiConfig, IssuedSvid, LeafSpec};
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

    /// A valid SVID for `id` from an unrelated CA of the same trust domain name, written as a
    /// workload directory `name` under the PKI directory with this PKI's bundle beside it.
    pub fn foreign_svid(&self, id: &SpiffeId, name: &str) -> Arc<FileSource> {
        let other = Ca::generate(
            &self.trust_domain,
            SystemTime::now(),
            Duration::from_secs(3600),
        )
        .unwrap();
        let svid: IssuedSvid = other
            .issue(&LeafSpec::svid(
                id,
                SystemTime::now(),
                Duration::from_secs(3600),
            ))
            .unwrap();
        let dir = self.dir().join(name);
        svid.write_to(&dir).unwrap();
        // Its own CA as the bundle, so the identity loads; the server's bundle still refuses it.
        let bundle = self.dir().join(format!("{name}-bundle.pem"));
        std::fs::write(&bundle, other.cert_pem()).unwrap();
        FileSource::load(IdentityFiles {
            svid: dir.join(workload_identity::SVID_FILE),
            key: dir.join(workload_identity::SVID_KEY_FILE),
            bundle,
        })
        .unwrap()
    }
}
