//! A workload's own identity: its X.509-SVID, private key and trust bundle, checked as a whole.

use std::fmt;
use std::sync::Arc;

use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::crypto;
use crate::spiffe_id::SpiffeId;
use crate::svid::{self, BundleError, PeerRole, SvidError, TrustBundle, ValidatedSvid};

/// Why identity material cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the SVID is not valid PEM: {0}")]
    SvidPem(String),
    #[error("the SVID file holds no certificate")]
    NoCertificate,
    #[error("the key file holds no private key")]
    NoPrivateKey,
    #[error("the key file is not valid PEM: {0}")]
    KeyPem(String),
    #[error("the private key cannot be used for signing: {0}")]
    UnusableKey(rustls::Error),
    #[error("the private key does not belong to the SVID")]
    KeyMismatch,
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("own SVID is not valid: {0}")]
    Svid(#[from] SvidError),
}

/// A workload's identity, validated when built: the SVID is a valid leaf of the bundle's trust
/// domain, usable as both client and server certificate, and the key belongs to it.
///
/// A source therefore never serves material its own peers would refuse.
pub struct Identity {
    svid: ValidatedSvid,
    leaf: CertificateDer<'static>,
    certified_key: Arc<CertifiedKey>,
    bundle: TrustBundle,
}

impl Identity {
    /// `chain` is the SVID leaf first, then any intermediates; `bundle_roots` the CA
    /// certificates of the trust domain named in the SVID.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: &PrivateKeyDer<'_>,
        bundle_roots: Vec<CertificateDer<'static>>,
        now: UnixTime,
    ) -> Result<Self, IdentityError> {
        let (leaf, intermediates) = chain.split_first().ok_or(IdentityError::NoCertificate)?;
        // The bundle is the trust domain named in our own SVID: the file layout has no other
        // place to say which domain the bundle belongs to.
        let trust_domain = svid::leaf::spiffe_id_of(leaf)?.trust_domain().clone();
        let bundle = TrustBundle::new(trust_domain, bundle_roots)?;
        let svid = svid::validate_svid(leaf, intermediates, &bundle, PeerRole::Client, now)?;
        // Every workload is a TLS client of some peers and a server to others.
        svid::validate_svid(leaf, intermediates, &bundle, PeerRole::Server, now)?;
        let leaf = leaf.clone();
        let signing_key = crypto::provider()
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(IdentityError::UnusableKey)?;
        let certified_key = CertifiedKey::new(chain, signing_key);
        certified_key
            .keys_match()
            .map_err(|_| IdentityError::KeyMismatch)?;
        Ok(Self {
            svid,
            leaf,
            certified_key: Arc::new(certified_key),
            bundle,
        })
    }

    /// Parses the three PEM files of the dev PKI layout: SVID chain, PKCS#8 key, bundle.
    pub fn from_pem(
        svid_pem: &[u8],
        key_pem: &[u8],
        bundle_pem: &[u8],
        now: UnixTime,
    ) -> Result<Self, IdentityError> {
        let chain = CertificateDer::pem_slice_iter(svid_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| IdentityError::SvidPem(error.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|error| match error {
            pem::Error::NoItemsFound => IdentityError::NoPrivateKey,
            // The message never includes key material: it names the PEM section or IO failure.
            other => IdentityError::KeyPem(other.to_string()),
        })?;
        let roots = CertificateDer::pem_slice_iter(bundle_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| BundleError::Pem(error.to_string()))?;
        Self::new(chain, &key, roots, now)
    }

    pub fn spiffe_id(&self) -> &SpiffeId {
        self.svid.spiffe_id()
    }

    pub fn svid(&self) -> &ValidatedSvid {
        &self.svid
    }

    /// The SVID leaf certificate.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.leaf
    }

    pub fn bundle(&self) -> &TrustBundle {
        &self.bundle
    }

    /// Chain and signing key in the form rustls presents, built once per identity.
    pub(crate) fn certified_key(&self) -> &Arc<CertifiedKey> {
        &self.certified_key
    }
}

impl fmt::Debug for Identity {
    // Names the identity, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("spiffe_id", self.spiffe_id())
            .field("not_after", &self.svid.not_after())
            .field("trust_domain", self.bundle.trust_domain())
            .finish_non_exhaustive()
    }
}

/// Where the TLS configurations read the current identity from, on every handshake, so that a
/// rotated SVID or bundle is used without rebuilding them.
///
/// [`FileSource`](crate::FileSource) reads the dev PKI's files; a SPIFFE Workload API client
/// would be another implementation.
pub trait IdentitySource: Send + Sync + fmt::Debug {
    fn current(&self) -> Arc<Identity>;
}
