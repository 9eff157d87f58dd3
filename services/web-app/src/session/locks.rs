//! One refresh at a time per session.
//!
//! The IAM rotates refresh tokens and treats a second use of a spent one as theft, revoking the
//! whole family (the design's reuse detection). Two requests of the same session that both
//! found the access token near expiry would otherwise both refresh with the same refresh token,
//! and the second would log the customer out. Within this process, the first takes the
//! session's lock and refreshes; the others wait, then find fresh tokens in the database. Across
//! replicas the database's compare-and-swap ([`super::store::replace_tokens`]) keeps the tokens
//! consistent, but the IAM would still see the second use: run one replica per session
//! (sticky routing) or move this lock into the database when scaling out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;

/// Per-session async locks, created on demand and dropped when nobody holds or waits on them.
#[derive(Debug, Default)]
pub struct RefreshLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while one session refreshes; releasing it also forgets the lock when unused.
#[derive(Debug)]
pub struct RefreshGuard<'a> {
    owner: &'a RefreshLocks,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl RefreshLocks {
    /// Waits for the lock of session `id_hash`.
    pub async fn lock(&self, id_hash: &str) -> RefreshGuard<'_> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            locks.entry(id_hash.to_owned()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        RefreshGuard {
            owner: self,
            key: id_hash.to_owned(),
            guard: Some(guard),
        }
    }

    /// Sessions with a lock in the map (for tests).
    pub fn len(&self) -> usize {
        self.locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self
            .owner
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Waiters hold a clone of the lock while they wait; with ours dropped above, a count
        // of one is the map's own reference: nobody needs the entry any more.
        if locks
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_per_session_and_nothing_left_behind() {
        let locks = Arc::new(RefreshLocks::default());
        let first = locks.lock("a").await;
        // Another session is independent.
        drop(locks.lock("b").await);
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _second = locks.lock("a").await;
            })
        };
        // On the test's single-threaded runtime, yielding lets the waiter run until it blocks.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiter.is_finished(), "the second holder waits");
        drop(first);
        waiter.await.unwrap();
        assert!(locks.is_empty());
    }
}
