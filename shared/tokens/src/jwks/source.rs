//! Where a validator gets its keys: a fixed set or a cache of an issuer's `jwks_uri`.

use std::collections::HashMap;
use std::sync::Arc;

use super::JwksCache;
use crate::validate::ValidationError;
use crate::{Jwks, PublicJwk};

/// Why no key was found for a `kid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyLookupError {
    /// No published key has this `kid` (after the one refresh a cache allows).
    #[error("no key with `kid` {0:?} is published")]
    UnknownKid(String),
    /// No usable key set: the fetch failed and no earlier set is recent enough to serve.
    #[error("the key set is unavailable: {0}")]
    Unavailable(String),
}

impl From<KeyLookupError> for ValidationError {
    fn from(error: KeyLookupError) -> Self {
        match error {
            KeyLookupError::UnknownKid(kid) => Self::UnknownKid(kid),
            KeyLookupError::Unavailable(why) => Self::KeysUnavailable(why),
        }
    }
}

/// The keys a validator verifies with, looked up by `kid` and nothing else.
#[derive(Debug, Clone)]
pub struct KeySource(Source);

#[derive(Debug, Clone)]
enum Source {
    Static(Arc<KeyIndex>),
    Cache(JwksCache),
}

impl KeySource {
    /// The key with this `kid`. A cache may fetch (see [`JwksCache::key`]); a static set never
    /// changes.
    pub async fn key(&self, kid: &str) -> Result<Arc<PublicJwk>, KeyLookupError> {
        match &self.0 {
            Source::Static(index) => index
                .get(kid)
                .ok_or_else(|| KeyLookupError::UnknownKid(crate::validate::shown(kid))),
            Source::Cache(cache) => cache.key(kid).await,
        }
    }
}

impl From<Jwks> for KeySource {
    fn from(jwks: Jwks) -> Self {
        Self(Source::Static(Arc::new(KeyIndex::new(&jwks))))
    }
}

impl From<JwksCache> for KeySource {
    fn from(cache: JwksCache) -> Self {
        Self(Source::Cache(cache))
    }
}

/// Keys by `kid`, ready for the hot path: one hash lookup and a reference-count increment.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex(HashMap<Box<str>, Arc<PublicJwk>>);

impl KeyIndex {
    /// Indexes a set. Keys without a `kid` cannot be selected and are left out. When two keys
    /// share a `kid` (RFC 7517 §4.5 only says they SHOULD NOT), neither is used: choosing one
    /// would be a guess, and a wrong guess is an outage that looks like forgery.
    pub(crate) fn new(jwks: &Jwks) -> Self {
        let mut index: HashMap<Box<str>, Arc<PublicJwk>> = HashMap::new();
        let mut ambiguous = Vec::new();
        for key in jwks.keys() {
            let Some(kid) = key.kid() else { continue };
            if index.insert(kid.into(), Arc::new(key.clone())).is_some() {
                ambiguous.push(kid.to_owned());
            }
        }
        for kid in ambiguous {
            tracing::warn!(kid = %kid, "the JWK Set names two keys with one `kid`; using neither");
            index.remove(kid.as_str());
        }
        Self(index)
    }

    pub(crate) fn get(&self, kid: &str) -> Option<Arc<PublicJwk>> {
        self.0.get(kid).cloned()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, SigningKey};

    #[tokio::test]
    async fn static_sources_find_by_kid_and_drop_ambiguous_kids() {
        let a = SigningKey::generate(Algorithm::Es256).unwrap();
        let b = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let twin = b.public_jwk().clone().with_kid(a.kid());
        let source = KeySource::from(Jwks::new(vec![
            a.public_jwk().clone(),
            b.public_jwk().clone(),
            twin,
        ]));
        assert_eq!(
            source.key(a.kid()).await.unwrap_err(),
            KeyLookupError::UnknownKid(a.kid().to_owned())
        );
        assert_eq!(source.key(b.kid()).await.unwrap().kid(), Some(b.kid()));
    }
}
