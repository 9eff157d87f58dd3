//! A dev PKI in a temporary directory, and its CA for certificates the dev PKI would not issue.

use std::path::Path;
use std::time::{Duration, SystemTime};

use dev_pki::{Ca, DevPkiConfig, IssuedSvid, LeafSpec};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tempfile::TempDir;
use workload_identity::workloads::{self, Workload};
use workload_identity::{FileSource, IdentityFiles, IdentitySource as _, SpiffeId, TrustDomain};

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
        let cert =
            std::fs::read_to_string(dir.path().join(workload_identity::BUNDLE_FILE)).unwrap();
        let key = std::fs::read_to_string(dir.path().join(dev_pki::CA_KEY_FILE)).unwrap();
        let ca = Ca::from_pem(&trust_domain, &cert, &key).unwrap();
        Self {
            dir,
            trust_domain,
            ca,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn source(&self, workload: Workload) -> std::sync::Arc<FileSource> {
        FileSource::load(IdentityFiles::in_pki_dir(self.dir(), workload.name())).unwrap()
    }

    pub fn id(&self, workload: Workload) -> SpiffeId {
        workload.spiffe_id(&self.trust_domain)
    }

    /// The SVID on disk for `workload`.
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
}

/// A CA unrelated to the test PKI, with the same trust domain.
pub fn other_ca(trust_domain: &TrustDomain) -> Ca {
    Ca::generate(trust_domain, SystemTime::now(), 24 * HOUR).unwrap()
}

pub fn chain_and_key(svid: &IssuedSvid) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    (
        vec![svid.cert_der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(svid.key_pkcs8_der().to_vec())),
    )
}
