//! The running program's view of its keys: loaded from the table, swapped atomically, refreshed
//! in the background.

use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use tokens::jwks::KeySet;
use tokio::time::MissedTickBehavior;

use super::KeyStore;
use crate::error::StorageError;

/// The current [`KeySet`], reloaded from the table every `refresh` so that a rotation made by an
/// admin command in another process (or a staged key reaching its `active_from`) takes effect
/// without a restart. Signing and publishing read the in-memory set: no database round trip on
/// the hot path.
#[derive(Debug)]
pub struct LiveKeys {
    store: KeyStore,
    current: RwLock<Arc<KeySet>>,
}

impl LiveKeys {
    /// Loads the keys (call [`KeyStore::ensure_key`] first on a fresh database) and starts the
    /// background refresh, which ends when the returned value is dropped.
    pub async fn start(store: KeyStore, refresh: Duration) -> Result<Arc<Self>, StorageError> {
        let set = store.load().await?;
        let live = Arc::new(Self {
            store,
            current: RwLock::new(Arc::new(set)),
        });
        tokio::spawn(refresh_loop(Arc::downgrade(&live), refresh));
        Ok(live)
    }

    /// The key set in use. Cheap: a read lock and a reference count.
    pub fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Reloads from the table now (after a rotation in this process, or in tests).
    pub async fn refresh_now(&self) -> Result<(), StorageError> {
        let set = self.store.load().await?;
        let previous = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(PoisonError::into_inner),
            Arc::new(set),
        );
        let current = self.current();
        if previous.active().kid() != current.active().kid() {
            tracing::info!(kid = current.active().kid(), "now signing with a new key");
        }
        Ok(())
    }

    /// The store the keys come from.
    pub fn store(&self) -> &KeyStore {
        &self.store
    }
}

async fn refresh_loop(live: Weak<LiveKeys>, every: Duration) {
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(100)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The first tick completes at once; the keys were just loaded.
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some(live) = live.upgrade() else { break };
        if let Err(error) = live.refresh_now().await {
            // The keys in memory stay in use: signing goes on with the last good set.
            tracing::warn!(%error, "reloading the signing keys failed; keeping the current set");
        }
    }
}
