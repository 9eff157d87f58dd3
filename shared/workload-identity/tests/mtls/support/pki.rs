//! A dev PKI in a temporary directory, plus the CA to issue non-conforming certificates with.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dev_pki::{Ca, DevPkiConfig, IssuedSvid, LeafSpec};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use tempfile::TempDir;
use workload_identity::workloads::{self, Workload};
use workload_identity::{
    FileSource, IdentityFiles, IdentitySource, SpiffeId, TrustBundle, TrustDomain,
};

pub const HOUR: Duration = Duration::from_secs(3600);

pub struct TestPki {
    dir: TempDir,
    pub trust_domain: TrustDomain,
    pub ca: Ca,
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
        let ca = read_ca(dir.path(), &trust_domain);
        Self {
            dir,
            trust_domain,
            ca,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn files(&self, workload: Workload) -> IdentityFiles {
        IdentityFiles::in_pki_dir(self.dir(), workload.name())
    }

    pub fn source(&self, workload: Workload) -> Arc<FileSource> {
        FileSource::load(self.files(workload)).unwrap()
    }

    pub fn id(&self, workload: Workload) -> SpiffeId {
        workload.spiffe_id(&self.trust_domain)
    }

    pub fn bundle(&self) -> TrustBundle {
        TrustBundle::new(self.trust_domain.clone(), vec![self.ca.cert_der().clone()]).unwrap()
    }

    /// The SVID currently on disk for `workload`.
    pub fn leaf(&self, workload: Workload) -> CertificateDer<'static> {
        self.source(workload).current().leaf().clone()
    }

    /// A conforming SVID for `id`, valid for an hour; change fields for negative cases.
    pub fn spec(&self, id: &SpiffeId) -> LeafSpec {
        LeafSpec::svid(id, SystemTime::now(), HOUR)
    }

    pub fn issue(&self, spec: &LeafSpec) -> IssuedSvid {
        self.ca.issue(spec).unwrap()
    }

    /// Rotates every SVID (same CA), as `dev-pki --renew` does.
    pub fn renew_svids(&self) {
        let mut config = DevPkiConfig::new(self.dir(), self.trust_domain.clone());
        config.renew = true;
        dev_pki::ensure(&config, SystemTime::now()).unwrap();
    }
}

fn read_ca(dir: &Path, trust_domain: &TrustDomain) -> Ca {
    let cert = std::fs::read_to_string(dir.join(workload_identity::BUNDLE_FILE)).unwrap();
    let key = std::fs::read_to_string(dir.join(dev_pki::CA_KEY_FILE)).unwrap();
    Ca::from_pem(trust_domain, &cert, &key).unwrap()
}

/// A CA unrelated to the test PKI, for the same trust domain name.
pub fn other_ca(trust_domain: &TrustDomain) -> Ca {
    Ca::generate(trust_domain, SystemTime::now(), 24 * HOUR).unwrap()
}

pub fn key_der(svid: &IssuedSvid) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(svid.key_pkcs8_der().to_vec()))
}

pub fn now() -> UnixTime {
    UnixTime::now()
}
