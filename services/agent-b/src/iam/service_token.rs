//! The service token cache: one certificate-bound token for Agent A, shared by every request
//! until shortly before it expires (design step 14: not one IAM round trip per request).
//!
//! - **Refresh ahead.** A token is used until `expires_at - margin`, where the margin is a fifth
//!   of its lifetime but at least a minute (at most half the lifetime for very short tokens):
//!   the 5-minute tokens of this system are refreshed with one minute left, so a token is never
//!   sent with only seconds to live, and clocks a few seconds apart do not matter.
//! - **Single flight.** Refreshing takes an async mutex; concurrent requests that find the
//!   token due wait for the one refresh in flight and use its result, good or bad, instead of
//!   each asking the IAM (no thundering herd on start or on expiry).
//! - **A failed refresh** is returned to every request that waited for it. While the old token
//!   still has [`MIN_REMAINING`] to live it keeps being used, so an IAM hiccup inside the refresh
//!   window costs nothing.
//! - **The hot path** (a fresh token) takes one read lock and a reference-count increment.

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};

use tokens::SharedClock;

use super::{IamError, IssuedToken};

/// The least remaining lifetime for which a token past its refresh time is still used when the
/// refresh fails: enough for one call to Agent A, and Agent A's clock skew.
pub const MIN_REMAINING: i64 = 30;

/// Whether a token came from the cache or was issued for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Cached,
    Issued,
}

/// A cached service token.
#[derive(Debug)]
pub struct CachedToken {
    pub token: IssuedToken,
    /// When it expires, by the cache's clock.
    pub expires_at: i64,
    /// From when it is refreshed before use.
    pub refresh_at: i64,
}

/// The cache of one service token. Shared by every request.
#[derive(Debug)]
pub struct ServiceTokenCache {
    current: RwLock<Option<Arc<CachedToken>>>,
    /// The result of the last refresh attempt, numbered, so requests that waited for it can
    /// take its outcome instead of trying again.
    last_attempt: RwLock<(u64, Option<IamError>)>,
    refresh: tokio::sync::Mutex<()>,
    clock: SharedClock,
}

impl ServiceTokenCache {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            current: RwLock::new(None),
            last_attempt: RwLock::new((0, None)),
            refresh: tokio::sync::Mutex::new(()),
            clock,
        }
    }

    /// The token: the cached one if it is fresh, otherwise one `issue` obtains (at most one
    /// `issue` runs at a time; see the module documentation).
    pub async fn get<F, Fut>(&self, issue: F) -> Result<(Arc<CachedToken>, Freshness), IamError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IssuedToken, IamError>>,
    {
        if let Some(token) = self.fresh() {
            return Ok((token, Freshness::Cached));
        }
        let attempt_seen = self.attempt().0;
        let _flight = self.refresh.lock().await;
        // While this request waited, another may have refreshed, or tried and failed.
        if let Some(token) = self.fresh() {
            return Ok((token, Freshness::Cached));
        }
        let (attempt, error) = self.attempt();
        if attempt != attempt_seen
            && let Some(error) = error
        {
            return self.still_usable(error);
        }

        let outcome = issue().await;
        let now = self.clock.now();
        match outcome {
            Ok(token) => {
                let cached = Arc::new(CachedToken::new(token, now));
                tracing::info!(
                    jti = cached.token.jti(),
                    expires_in = cached.expires_at - now,
                    "service token issued and cached"
                );
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Some(cached.clone());
                self.record_attempt(None);
                Ok((cached, Freshness::Issued))
            }
            Err(error) => {
                self.record_attempt(Some(error.clone()));
                self.still_usable(error)
            }
        }
    }

    /// Drops the cached token if it is the one with `jti`: its audience refused it (a rotated
    /// certificate no longer matches its binding, say), so the next request gets a new one.
    pub fn forget(&self, jti: &str) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current
            .as_ref()
            .is_some_and(|token| token.token.jti() == jti)
        {
            tracing::warn!(jti, "cached service token dropped: Agent A refused it");
            *current = None;
        }
    }

    fn fresh(&self) -> Option<Arc<CachedToken>> {
        let now = self.clock.now();
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|token| now < token.refresh_at)
            .cloned()
    }

    /// After a failed refresh: the old token while it has [`MIN_REMAINING`] left, else the error.
    fn still_usable(&self, error: IamError) -> Result<(Arc<CachedToken>, Freshness), IamError> {
        let now = self.clock.now();
        let current = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|token| token.expires_at - now >= MIN_REMAINING)
            .cloned();
        match current {
            Some(token) => {
                tracing::warn!(%error, jti = token.token.jti(), "service token refresh failed; the cached token is still valid and stays in use");
                Ok((token, Freshness::Cached))
            }
            None => Err(error),
        }
    }

    fn attempt(&self) -> (u64, Option<IamError>) {
        self.last_attempt
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record_attempt(&self, error: Option<IamError>) {
        let mut last = self
            .last_attempt
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *last = (last.0.wrapping_add(1), error);
    }
}

impl CachedToken {
    fn new(token: IssuedToken, now: i64) -> Self {
        let lifetime = token.expires_in;
        let expires_at = now.saturating_add(lifetime);
        Self {
            refresh_at: expires_at.saturating_sub(refresh_margin(lifetime)),
            expires_at,
            token,
        }
    }
}

/// A fifth of the lifetime, at least 60 s, at most half of it.
fn refresh_margin(lifetime: i64) -> i64 {
    (lifetime / 5).max(60).min(lifetime / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokens::ManualClock;

    fn token(jti: &str, expires_in: i64) -> IssuedToken {
        IssuedToken {
            token: format!("token-{jti}"),
            expires_in,
            jti: jti.to_owned(),
        }
    }

    #[test]
    fn margins() {
        assert_eq!(refresh_margin(300), 60);
        assert_eq!(refresh_margin(900), 180);
        assert_eq!(refresh_margin(60), 30);
    }

    #[tokio::test]
    async fn cached_until_the_refresh_margin_then_reissued() {
        let clock = ManualClock::new(1_000);
        let cache = ServiceTokenCache::new(clock.clone());
        let (first, how) = cache.get(|| async { Ok(token("a", 300)) }).await.unwrap();
        assert_eq!((first.token.jti(), how), ("a", Freshness::Issued));
        clock.advance(239);
        let (again, how) = cache.get(|| async { Ok(token("b", 300)) }).await.unwrap();
        assert_eq!((again.token.jti(), how), ("a", Freshness::Cached));
        clock.advance(1);
        let (next, how) = cache.get(|| async { Ok(token("b", 300)) }).await.unwrap();
        assert_eq!((next.token.jti(), how), ("b", Freshness::Issued));
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_a_still_valid_token_and_fails_once_it_is_not() {
        let clock = ManualClock::new(1_000);
        let cache = ServiceTokenCache::new(clock.clone());
        cache.get(|| async { Ok(token("a", 300)) }).await.unwrap();
        let down = || async { Err(IamError::Unreachable("connection refused".into())) };
        clock.advance(250);
        let (kept, how) = cache.get(down).await.unwrap();
        assert_eq!((kept.token.jti(), how), ("a", Freshness::Cached));
        clock.advance(21);
        assert_eq!(
            cache.get(down).await.unwrap_err(),
            IamError::Unreachable("connection refused".into())
        );
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_refresh_and_its_failure() {
        let cache = Arc::new(ServiceTokenCache::new(ManualClock::new(1_000)));
        let calls = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let spawn = |ok: bool| {
            let (cache, calls, mut released) = (cache.clone(), calls.clone(), released.clone());
            tokio::spawn(async move {
                cache
                    .get(|| async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        let _ = released.wait_for(|go| *go).await;
                        if ok {
                            Ok(token("a", 300))
                        } else {
                            Err(IamError::Unreachable("down".into()))
                        }
                    })
                    .await
            })
        };
        let failing: Vec<_> = (0..5).map(|_| spawn(false)).collect();
        tokio::task::yield_now().await;
        release.send(true).unwrap();
        for task in failing {
            assert!(task.await.unwrap().is_err());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let ok: Vec<_> = (0..5).map(|_| spawn(true)).collect();
        let mut issued = 0;
        for task in ok {
            if task.await.unwrap().unwrap().1 == Freshness::Issued {
                issued += 1;
            }
        }
        assert_eq!((issued, calls.load(Ordering::SeqCst)), (1, 2));
    }

    #[tokio::test]
    async fn forgetting_drops_only_the_named_token() {
        let cache = ServiceTokenCache::new(ManualClock::new(1_000));
        cache.get(|| async { Ok(token("a", 300)) }).await.unwrap();
        cache.forget("other");
        let (kept, _) = cache.get(|| async { Ok(token("b", 300)) }).await.unwrap();
        assert_eq!(kept.token.jti(), "a");
        cache.forget("a");
        let (next, how) = cache.get(|| async { Ok(token("b", 300)) }).await.unwrap();
        assert_eq!((next.token.jti(), how), ("b", Freshness::Issued));
    }
}
