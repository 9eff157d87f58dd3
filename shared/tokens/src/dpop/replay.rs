//! The single-use check for DPoP proofs (RFC 9449 §11.1): a bounded, sharded record of the
//! `jti` values accepted within the acceptance window.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use ring::digest::{Context, SHA256};
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::dpop::{DpopConfigError, DpopError};

/// Entries per shard below which more shards only cost memory: small caches have one shard,
/// which also makes their capacity exact.
const ENTRIES_PER_SHARD: usize = 4096;
/// Enough shards that two cores (or sixty-four) rarely wait on the same lock.
const MAX_SHARDS: usize = 64;

/// The fixed-size key of one accepted proof: SHA-256 over a per-process salt, the proof key's
/// thumbprint, the normalised `htu` and the `jti`.
///
/// Scoping by key and URI is RFC 9449 §11.1's "in the context of the target URI", and it means
/// a client can only ever collide with its own proofs: one client cannot burn another's `jti`
/// values. Hashing bounds every entry to 32 bytes whatever the `jti` length (§11.1 warns about
/// large `jti` values), and the secret salt keeps shard placement unpredictable, so a flood
/// cannot be aimed at one shard.
type Key = [u8; 32];

/// A bounded replay cache, safe to share between request handlers.
///
/// # Expiry
/// An entry lives until its proof's `iat` leaves the acceptance window (`iat + max_age`).
/// After that the proof is refused as too old whatever the cache says, so forgetting it is
/// safe, and the cache never needs to hold more than one window of accepted proofs.
///
/// # Capacity: fail closed
/// Each shard holds at most `capacity / shards` entries (rounded up). When a shard is full, it
/// first drops the entries that have already expired; if none have, the new proof is refused
/// with [`DpopError::ReplayCacheFull`]. A live entry is never evicted to make room, because
/// evicting it would let that proof be replayed. The cost of this choice is availability under a
/// flood of validly signed proofs, so size the capacity for the peak rate of accepted proofs
/// times the window (e.g. 1,000 proofs/s × 65 s ≈ 65,000 entries, about 5 MB), and rate-limit
/// clients in front of the verifier.
///
/// # Cost
/// One SHA-256 of a few hundred bytes and one short lock of one shard per proof. A shard is
/// swept on the way through when it holds something expired, at most once per second, so
/// memory follows the window closely and a sweep's O(n) is paid once per second per shard, not
/// per proof. A full shard whose entries are all live refuses in O(1).
pub struct ReplayCache {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity: usize,
    salt: [u8; 16],
}

#[derive(Default)]
struct Shard {
    /// Key → the last second (inclusive) at which the proof could still be accepted.
    entries: HashMap<Key, i64>,
    /// The smallest expiry in `entries` (`i64::MAX` when empty): nothing can be pruned before.
    earliest_expiry: i64,
    /// The first second at which another sweep may run.
    next_sweep: i64,
}

impl ReplayCache {
    /// A cache of about `capacity` entries.
    pub fn new(capacity: usize) -> Result<Self, DpopConfigError> {
        if capacity == 0 {
            return Err(DpopConfigError::ZeroCapacity);
        }
        let mut salt = [0u8; 16];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| DpopConfigError::Rng)?;
        let shard_count = (capacity / ENTRIES_PER_SHARD).clamp(1, MAX_SHARDS);
        let shards = (0..shard_count)
            .map(|_| {
                Mutex::new(Shard {
                    earliest_expiry: i64::MAX,
                    ..Shard::default()
                })
            })
            .collect();
        Ok(Self {
            shards,
            shard_capacity: capacity.div_ceil(shard_count),
            salt,
        })
    }

    /// The most entries the cache holds.
    pub fn capacity(&self) -> usize {
        self.shard_capacity * self.shards.len()
    }

    /// The entries held now, expired or not (for metrics and tests).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(shard).entries.len())
            .sum()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records a proof, or refuses it if the same key already used this `jti` at this `htu`
    /// within the window.
    ///
    /// `expires_at` is the last second at which the proof could be accepted; `now` is the
    /// verifier's clock. Check and insert happen under one lock, so two concurrent requests
    /// carrying the same proof cannot both pass.
    pub fn check_and_insert(
        &self,
        jkt: &str,
        htu: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), DpopError> {
        let key = self.key(jkt, htu, jti);
        // The key is a salted SHA-256 output: any of its bytes is uniformly distributed.
        let index = usize::from(u16::from_le_bytes([key[0], key[1]])) % self.shards.len();
        let mut shard = lock(&self.shards[index]);
        if shard.earliest_expiry < now && now >= shard.next_sweep {
            shard.prune(now);
        }
        match shard.entries.get(&key) {
            Some(&live_until) if live_until >= now => return Err(DpopError::Replayed),
            Some(_) => {}
            None => {
                if shard.entries.len() >= self.shard_capacity {
                    if shard.earliest_expiry < now {
                        shard.prune(now);
                    }
                    if shard.entries.len() >= self.shard_capacity {
                        return Err(DpopError::ReplayCacheFull);
                    }
                }
            }
        }
        shard.entries.insert(key, expires_at);
        shard.earliest_expiry = shard.earliest_expiry.min(expires_at);
        Ok(())
    }

    fn key(&self, jkt: &str, htu: &str, jti: &str) -> Key {
        let mut context = Context::new(&SHA256);
        context.update(&self.salt);
        // Length prefixes keep the fields apart: ("ab", "c") and ("a", "bc") hash differently.
        for field in [jkt, htu, jti] {
            context.update(&(field.len() as u64).to_be_bytes());
            context.update(field.as_bytes());
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(context.finish().as_ref());
        key
    }
}

impl Shard {
    /// Drops every entry whose proof would now be refused as too old anyway.
    fn prune(&mut self, now: i64) {
        self.entries.retain(|_, live_until| *live_until >= now);
        self.earliest_expiry = self.entries.values().copied().min().unwrap_or(i64::MAX);
        self.next_sweep = now.saturating_add(1);
    }
}

/// A poisoned shard is still a consistent map (no code path panics halfway through an update),
/// and refusing every proof forever after one panic elsewhere would be worse than carrying on.
fn lock(shard: &Mutex<Shard>) -> std::sync::MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayCache")
            .field("shards", &self.shards.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_single_use_per_key_and_uri() {
        let cache = ReplayCache::new(100).unwrap();
        cache
            .check_and_insert("k1", "https://a/", "j", 160, 100)
            .unwrap();
        assert_eq!(
            cache.check_and_insert("k1", "https://a/", "j", 160, 101),
            Err(DpopError::Replayed)
        );
        // Another key, or another URI, has its own jti space.
        cache
            .check_and_insert("k2", "https://a/", "j", 160, 101)
            .unwrap();
        cache
            .check_and_insert("k1", "https://b/", "j", 160, 101)
            .unwrap();
        // Field boundaries matter.
        cache
            .check_and_insert("k1", "https://a/j", "", 160, 101)
            .unwrap();
    }

    #[test]
    fn entries_live_until_their_last_acceptable_second() {
        let cache = ReplayCache::new(100).unwrap();
        cache.check_and_insert("k", "u", "j", 160, 100).unwrap();
        assert_eq!(
            cache.check_and_insert("k", "u", "j", 160, 160),
            Err(DpopError::Replayed)
        );
        // One second later the entry is dead; the verifier refuses such a proof as too old
        // before ever asking the cache.
        cache.check_and_insert("k", "u", "j", 221, 161).unwrap();
    }

    #[test]
    fn full_cache_refuses_until_something_expires() {
        let cache = ReplayCache::new(2).unwrap();
        assert_eq!(cache.capacity(), 2);
        cache.check_and_insert("k", "u", "a", 110, 100).unwrap();
        cache.check_and_insert("k", "u", "b", 160, 100).unwrap();
        assert_eq!(
            cache.check_and_insert("k", "u", "c", 160, 105),
            Err(DpopError::ReplayCacheFull)
        );
        // A full cache still recognises a replay of what it holds.
        assert_eq!(
            cache.check_and_insert("k", "u", "b", 160, 105),
            Err(DpopError::Replayed)
        );
        // Once "a" has left the window its slot is reused; "b" is still protected.
        cache.check_and_insert("k", "u", "c", 171, 111).unwrap();
        assert_eq!(cache.len(), 2);
        assert_eq!(
            cache.check_and_insert("k", "u", "b", 160, 112),
            Err(DpopError::Replayed)
        );
    }

    #[test]
    fn sweeps_return_memory_after_a_burst() {
        let cache = ReplayCache::new(1000).unwrap();
        for i in 0..100 {
            cache
                .check_and_insert("k", "u", &i.to_string(), 160, 100)
                .unwrap();
        }
        assert_eq!(cache.len(), 100);
        // Nothing has expired at 160, so nothing is swept.
        cache
            .check_and_insert("k", "u", "at-160", 220, 160)
            .unwrap();
        assert_eq!(cache.len(), 101);
        cache
            .check_and_insert("k", "u", "at-161", 221, 161)
            .unwrap();
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn large_caches_are_sharded() {
        let cache = ReplayCache::new(1_000_000).unwrap();
        assert_eq!(cache.shards.len(), MAX_SHARDS);
        assert!(cache.capacity() >= 1_000_000);
        assert_eq!(
            ReplayCache::new(0).unwrap_err(),
            DpopConfigError::ZeroCapacity
        );
    }
}
