//! The sessions' DPoP keys, parsed once.
//!
//! Every chat request signs a proof with its session's key. Parsing the stored PKCS#8 (which
//! recomputes and checks the public point) costs about as much as the signature itself, and the
//! key of a session never changes: it is set at login and kept through refreshes; a new login
//! makes a new session id. So keys are cached by session id hash. A cached key of a session
//! that has since ended is never reached: the session lookup comes first and fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokens::{DpopKey, SharedClock};

use super::store::{Session, StoreError};

/// Keys kept at most; past it the cache starts over (each live session then parses its key
/// once more). Bounded so a flood of logins cannot grow memory without limit.
const CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, Arc<DpopKey>>>,
}

impl KeyCache {
    /// The session's key, parsed on first use.
    pub fn get(&self, session: &Session, clock: &SharedClock) -> Result<Arc<DpopKey>, StoreError> {
        if let Some(key) = self.lock().get(&session.id_hash) {
            return Ok(key.clone());
        }
        let key = Arc::new(session.dpop_key.load(clock.clone())?);
        let mut keys = self.lock();
        if keys.len() >= CAPACITY {
            keys.clear();
        }
        keys.insert(session.id_hash.clone(), key.clone());
        Ok(key)
    }

    /// Drops the key of an ended session.
    pub fn forget(&self, id_hash: &str) {
        self.lock().remove(id_hash);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<DpopKey>>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
