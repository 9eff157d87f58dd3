//! What a leaf certificate should look like, and the issued result.

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use rcgen::KeyUsagePurpose;
use rustls_pki_types::CertificateDer;
use workload_identity::{SVID_FILE, SVID_KEY_FILE, SpiffeId};

use crate::dates::BACKDATE;
use crate::error::PkiError;
use crate::files::{Access, write_atomically};

/// The contents of a leaf certificate. [`LeafSpec::svid`] is a conforming X.509-SVID; change
/// fields to make the non-conforming certificates negative tests need:
///
/// ```
/// # use std::time::{Duration, SystemTime};
/// # use dev_pki::LeafSpec;
/// # let id = workload_identity::SpiffeId::parse("spiffe://demo.test/ns/a/sa/b").unwrap();
/// let now = SystemTime::now();
/// let day = Duration::from_secs(24 * 3600);
/// let expired = LeafSpec {
///     not_before: now - 2 * day,
///     not_after: now - day,
///     ..LeafSpec::svid(&id, now, day)
/// };
/// let two_ids = LeafSpec {
///     uri_sans: vec![id.to_string(), "spiffe://demo.test/ns/a/sa/c".to_owned()],
///     ..LeafSpec::svid(&id, now, day)
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafSpec {
    /// URI SANs in order; an SVID has exactly one, its SPIFFE ID.
    pub uri_sans: Vec<String>,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// basicConstraints cA; `false` (written explicitly) for an SVID.
    pub is_ca: bool,
    /// `[DigitalSignature]` for an SVID.
    pub key_usages: Vec<KeyUsagePurpose>,
}

impl LeafSpec {
    /// An X.509-SVID for `id`, valid from just before `now` until `now + ttl`.
    pub fn svid(id: &SpiffeId, now: SystemTime, ttl: Duration) -> Self {
        Self {
            uri_sans: vec![id.to_string()],
            not_before: now.checked_sub(BACKDATE).unwrap_or(now),
            not_after: now.checked_add(ttl).unwrap_or(now),
            is_ca: false,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
        }
    }
}

/// A freshly issued certificate and its private key.
pub struct IssuedSvid {
    pub(crate) cert_der: CertificateDer<'static>,
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    pub(crate) key_der: Vec<u8>,
}

impl IssuedSvid {
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The chain as a workload presents it: the leaf, then intermediates (none: the dev CA
    /// signs leaves directly, and the root is never sent, the peer already has it).
    pub fn chain_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The PKCS#8 private key, PEM. Secret.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The PKCS#8 private key, DER. Secret.
    pub fn key_pkcs8_der(&self) -> &[u8] {
        &self.key_der
    }

    /// Writes `svid.key.pem` (0600) then `svid.pem` into `workload_dir`, each atomically.
    pub fn write_to(&self, workload_dir: &Path) -> Result<(), PkiError> {
        std::fs::create_dir_all(workload_dir).map_err(PkiError::io(workload_dir))?;
        write_atomically(
            &workload_dir.join(SVID_KEY_FILE),
            self.key_pem.as_bytes(),
            Access::Private,
        )?;
        write_atomically(
            &workload_dir.join(SVID_FILE),
            self.cert_pem.as_bytes(),
            Access::Public,
        )
    }
}

impl fmt::Debug for IssuedSvid {
    // Never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedSvid")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}
