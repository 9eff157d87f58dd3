//! A validator's cache of an issuer's JWK Set.
//!
//! The rules, all measured with the injected clock:
//!
//! - A fetched set is fresh for the configured TTL. `Cache-Control: max-age` from the issuer may
//!   shorten that (it knows when it rotates) but never below the minimum refresh interval, and
//!   never lengthen it: the configured TTL is also the longest a key the issuer has withdrawn,
//!   perhaps because it leaked, keeps being trusted here.
//! - A `kid` that is not in a fresh set triggers a refetch, at most one per minimum refresh
//!   interval, however many tokens with unknown `kid`s arrive: forged `kid`s cannot be turned
//!   into a flood of requests to the issuer. After that one refetch the `kid` is unknown.
//! - One fetch at a time: concurrent lookups that need a refresh wait for the one in flight and
//!   read its result (single flight, no thundering herd).
//! - If a refresh fails, the last good set keeps being served until `max_stale` after it stopped
//!   being fresh; after that, lookups fail with [`KeyLookupError::Unavailable`]. Failed fetches
//!   count against the refresh interval too, so a down issuer is not hammered.
//! - The hot path (a known `kid` in a fresh set) takes one read lock and one hash lookup.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use url::Url;

use super::fetch::{FetchError, HttpFetcher, JwksFetcher};
use super::source::{KeyIndex, KeyLookupError};
use crate::{Jwks, PublicJwk, SharedClock, SystemClock};

/// Why a cache could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheConfigError {
    #[error("the TTL must be at least one second")]
    ZeroTtl,
    #[error("the minimum refresh interval must be at least one second")]
    ZeroRefreshInterval,
    #[error("the minimum refresh interval must not exceed the TTL")]
    RefreshIntervalOverTtl,
    #[error("the fetch timeout must not be zero")]
    ZeroTimeout,
}

/// A cache of one issuer's JWK Set. Cheap to clone; clones share the cache.
#[derive(Debug, Clone)]
pub struct JwksCache(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    fetcher: Box<dyn JwksFetcher>,
    clock: SharedClock,
    ttl: i64,
    min_refresh_interval: i64,
    max_stale: i64,
    fetch_timeout: Duration,
    state: RwLock<State>,
    /// Held for the whole of a fetch: the single-flight gate.
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    /// The last good set.
    keys: Option<KeyIndex>,
    /// Until then the set is fresh.
    fresh_until: i64,
    /// Until then the set may be served if refreshing fails.
    usable_until: i64,
    /// When the last fetch, good or bad, finished: the refresh rate limit counts from here.
    last_attempt: Option<i64>,
    last_error: Option<String>,
}

enum Decision {
    Found(Arc<PublicJwk>),
    Refresh,
    Reject(KeyLookupError),
}

impl JwksCache {
    /// A cache fetching with `fetcher`.
    pub fn builder(fetcher: impl JwksFetcher) -> JwksCacheBuilder {
        JwksCacheBuilder {
            fetcher: Box::new(fetcher),
            ttl: Duration::from_secs(300),
            min_refresh_interval: Duration::from_secs(30),
            max_stale: Duration::from_secs(15 * 60),
            fetch_timeout: Duration::from_secs(5),
            clock: None,
        }
    }

    /// A cache of the JWK Set at `jwks_uri`, fetched with `client` (see [`HttpFetcher::new`]
    /// for which URIs are accepted).
    pub fn http(client: reqwest::Client, jwks_uri: Url) -> Result<JwksCacheBuilder, FetchError> {
        Ok(Self::builder(HttpFetcher::new(client, jwks_uri)?))
    }

    /// The key with this `kid`, fetching the set if it is stale, missing, or lacks the `kid`
    /// (within the rules in the module documentation).
    pub async fn key(&self, kid: &str) -> Result<Arc<PublicJwk>, KeyLookupError> {
        let now = self.0.clock.now();
        // The read guard is dropped before any await.
        let decision = self.0.decide(&self.0.read(), kid, now, true);
        match decision {
            Decision::Found(key) => Ok(key),
            Decision::Reject(error) => Err(error),
            Decision::Refresh => self.0.refresh_then_find(kid).await,
        }
    }

    /// Fetches the set now, whatever its freshness, and returns how many usable keys it has.
    /// For start-up (fail fast when the issuer is unreachable) and operators; not for the
    /// request path, which must go through [`Self::key`] and its rate limit.
    pub async fn refresh(&self) -> Result<usize, FetchError> {
        let _flight = self.0.refresh.lock().await;
        self.0.fetch_and_store().await
    }
}

impl Inner {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        // The state is replaced whole under the write lock, so a panic elsewhere cannot leave
        // it half-written; a poisoned lock is still consistent.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn decide(&self, state: &State, kid: &str, now: i64, allow_fetch: bool) -> Decision {
        let may_fetch = allow_fetch
            && state
                .last_attempt
                .is_none_or(|at| now.saturating_sub(at) >= self.min_refresh_interval);
        let keys = match &state.keys {
            Some(keys) if now < state.fresh_until => keys,
            // Stale, and a refresh was tried too recently to try again: serve the last good set.
            Some(keys) if now < state.usable_until && !may_fetch => keys,
            _ if may_fetch => return Decision::Refresh,
            _ => {
                let why = state
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "the key set is past its stale window".to_owned());
                return Decision::Reject(KeyLookupError::Unavailable(why));
            }
        };
        match keys.get(kid) {
            Some(key) => Decision::Found(key),
            None if may_fetch => Decision::Refresh,
            None => Decision::Reject(KeyLookupError::UnknownKid(crate::validate::shown(kid))),
        }
    }

    async fn refresh_then_find(&self, kid: &str) -> Result<Arc<PublicJwk>, KeyLookupError> {
        let _flight = self.refresh.lock().await;
        // Whoever held the gate before may have fetched what this lookup needs, or used up
        // the refresh interval: decide again.
        let decision = self.decide(&self.read(), kid, self.clock.now(), true);
        match decision {
            Decision::Found(key) => return Ok(key),
            Decision::Reject(error) => return Err(error),
            Decision::Refresh => {}
        }
        // The outcome is recorded in the state; the answer comes from there.
        let _ = self.fetch_and_store().await;
        let decision = self.decide(&self.read(), kid, self.clock.now(), false);
        match decision {
            Decision::Found(key) => Ok(key),
            Decision::Reject(error) => Err(error),
            Decision::Refresh => Err(KeyLookupError::Unavailable(
                "no refresh is allowed yet".to_owned(),
            )),
        }
    }

    /// One fetch, its outcome recorded. The attempt time is written when the fetch finishes,
    /// so a lookup cancelled mid-fetch (its request dropped) does not use up the interval.
    async fn fetch_and_store(&self) -> Result<usize, FetchError> {
        let outcome = match tokio::time::timeout(self.fetch_timeout, self.fetcher.fetch()).await {
            Ok(Ok(fetched)) => Jwks::from_json(&fetched.body)
                .map(|jwks| (KeyIndex::new(&jwks), fetched.max_age))
                .map_err(FetchError::from),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(FetchError::Timeout(self.fetch_timeout)),
        };
        let now = self.clock.now();
        let mut state = self.write();
        state.last_attempt = Some(now);
        match outcome {
            Ok((keys, max_age)) => {
                let ttl = max_age.map_or(self.ttl, |max_age| {
                    seconds(max_age).clamp(self.min_refresh_interval, self.ttl)
                });
                let count = keys.len();
                state.keys = Some(keys);
                state.fresh_until = now.saturating_add(ttl);
                state.usable_until = state.fresh_until.saturating_add(self.max_stale);
                state.last_error = None;
                tracing::debug!(keys = count, ttl, "JWK Set refreshed");
                Ok(count)
            }
            Err(error) => {
                tracing::warn!(%error, "JWK Set refresh failed; the last good set stays in use while it may");
                state.last_error = Some(error.to_string());
                Err(error)
            }
        }
    }
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// Configures a [`JwksCache`].
#[derive(Debug)]
pub struct JwksCacheBuilder {
    fetcher: Box<dyn JwksFetcher>,
    ttl: Duration,
    min_refresh_interval: Duration,
    max_stale: Duration,
    fetch_timeout: Duration,
    clock: Option<SharedClock>,
}

impl JwksCacheBuilder {
    /// How long a fetched set is fresh (default 5 minutes): also the longest a withdrawn key
    /// stays trusted.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The least time between two fetches that were not due to the TTL (default 30 seconds).
    pub fn min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    /// How long after it stopped being fresh the last good set is served while refreshes fail
    /// (default 15 minutes, the longest access-token lifetime here, so tokens issued just before
    /// an issuer outage stay verifiable for their whole life). Zero disables serving stale keys.
    pub fn max_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// How long one fetch may take (default 5 seconds). Lookups needing a refresh wait for it,
    /// so this bounds how long a slow issuer can hold up requests.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// The clock TTLs and intervals are measured with; the system clock by default.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    pub fn build(self) -> Result<JwksCache, CacheConfigError> {
        let ttl = seconds(self.ttl);
        let min_refresh_interval = seconds(self.min_refresh_interval);
        if ttl < 1 {
            return Err(CacheConfigError::ZeroTtl);
        }
        if min_refresh_interval < 1 {
            return Err(CacheConfigError::ZeroRefreshInterval);
        }
        if min_refresh_interval > ttl {
            return Err(CacheConfigError::RefreshIntervalOverTtl);
        }
        if self.fetch_timeout.is_zero() {
            return Err(CacheConfigError::ZeroTimeout);
        }
        Ok(JwksCache(Arc::new(Inner {
            fetcher: self.fetcher,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            ttl,
            min_refresh_interval,
            max_stale: seconds(self.max_stale),
            fetch_timeout: self.fetch_timeout,
            state: RwLock::new(State::default()),
            refresh: tokio::sync::Mutex::new(()),
        })))
    }
}
