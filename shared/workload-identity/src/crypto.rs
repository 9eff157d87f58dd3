//! The one crypto provider every TLS configuration and signature check here uses.

use std::sync::{Arc, LazyLock};

use rustls::crypto::CryptoProvider;

/// `ring`, chosen explicitly per configuration rather than installed as the process default, so
/// that nothing depends on which crate happened to install a provider first.
static PROVIDER: LazyLock<Arc<CryptoProvider>> =
    LazyLock::new(|| Arc::new(rustls::crypto::ring::default_provider()));

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::clone(&PROVIDER)
}
