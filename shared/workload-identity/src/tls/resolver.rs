//! Presents the current SVID on every handshake, so a rotated SVID is used without rebuilding
//! the TLS configuration.

use std::sync::Arc;

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::identity::IdentitySource;

#[derive(Debug)]
pub(crate) struct SvidResolver(pub(crate) Arc<dyn IdentitySource>);

impl SvidResolver {
    fn current(&self) -> Arc<CertifiedKey> {
        // The signing key was parsed when the identity was loaded; this is a reference count.
        Arc::clone(self.0.current().certified_key())
    }
}

impl ResolvesServerCert for SvidResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl ResolvesClientCert for SvidResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
