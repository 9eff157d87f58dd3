//! What every handler shares, built once at start-up.

use std::ops::Deref;
use std::sync::Arc;

use bytes::Bytes;
use ring::rand::SystemRandom;
use storage::signing_keys::LiveKeys;
use tokens::SharedClock;
use workload_identity::TrustDomain;

use crate::audit::AuditLog;
use crate::config::Lifetimes;
use crate::registry::LiveRegistry;

#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    /// `iss` of every token.
    pub issuer: String,
    pub trust_domain: TrustDomain,
    pub keys: Arc<LiveKeys>,
    pub registry: Arc<LiveRegistry>,
    pub audit: AuditLog,
    pub clock: SharedClock,
    pub lifetimes: Lifetimes,
    pub rng: SystemRandom,
    /// The RFC 8414 metadata document, serialised once.
    pub metadata: Bytes,
}

impl AppState {
    pub(crate) fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
