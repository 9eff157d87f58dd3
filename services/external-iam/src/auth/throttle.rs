//! Login throttling per account and per client IP.
//!
//! **Policy.** Each failure (wrong password, unknown user, wrong or replayed TOTP code) counts
//! against the account name as typed (trimmed and lower-cased; a name that is no account's is
//! kept as a fingerprint, as it may be a password typed into the wrong field) and against the
//! client IP. After
//! `account_delay_after` failures an account must wait before its next attempt, 1 s, then 2, 4, …
//! up to `max_delay`; at `account_lock_after` failures it is locked for `lock_duration`. The IP
//! has the same rule with higher thresholds, because many customers can share one address. A
//! successful login clears the account's counter, not the IP's (an attacker could otherwise
//! reset their address's counter with an account of their own). Counters forget failures older
//! than `lock_duration`, and the IAM's sweep deletes such counters, so names typed once do not
//! accumulate.
//!
//! **Attempts are counted before they are checked** ([`Throttle::reserve`]), atomically, and
//! given back when the credential was right: a burst of guesses sent in parallel is counted one
//! by one, so it meets the same delays and lock as guesses sent in sequence.
//!
//! **Delays are enforced by refusal, not by sleeping**: an attempt that comes too early is
//! answered at once with "try again in N seconds" and its password is not even checked. A
//! server that sleeps holds a connection per attacker attempt, which is a denial of service of
//! its own.
//!
//! **What the customer is told.** OWASP's Authentication Cheat Sheet asks for one generic message
//! whether the account exists or not. Because counters are keyed by the name as typed, an
//! unknown name is throttled and locked exactly like a real one, so the lock message ("too many
//! failed attempts, try again in N minutes") says nothing about existence and is shown as is:
//! telling a real customer why they cannot log in is worth more than hiding a fact an attacker
//! cannot learn from it.
//!
//! Counters live in the database so every replica enforces the same limits.

use sqlx::AnyPool;

use crate::config::{ThrottlePolicy, secs};
use crate::store::StoreError;
use crate::store::throttle::{self as store, Counter};

/// Why an attempt is refused before its credentials are looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too soon after the last failure; retry after this many seconds.
    Wait { seconds: i64 },
    /// Locked until this time.
    Locked { until: i64 },
}

impl Refusal {
    /// The message shown on the form.
    pub fn message(self, now: i64) -> String {
        match self {
            Self::Wait { seconds } => format!(
                "Too many failed attempts. Wait {seconds} second{} before trying again.",
                if seconds == 1 { "" } else { "s" }
            ),
            Self::Locked { until } => {
                let minutes = (until - now + 59) / 60;
                format!(
                    "Too many failed attempts. Sign-in is locked for {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )
            }
        }
    }

    /// Seconds until an attempt may be made again (for `Retry-After`).
    pub fn retry_after(self, now: i64) -> i64 {
        match self {
            Self::Wait { seconds } => seconds,
            Self::Locked { until } => (until - now).max(1),
        }
    }
}

/// The counter keys of an attempt.
#[derive(Debug, Clone)]
pub struct Keys {
    account: String,
    ip: String,
}

impl Keys {
    /// `account_name`: the normalised name of an account, or the fingerprint of a name that
    /// is none.
    pub fn new(account_name: &str, ip: &str) -> Self {
        Self {
            account: format!("user:{account_name}"),
            ip: format!("ip:{ip}"),
        }
    }
}

/// Applies a [`ThrottlePolicy`].
#[derive(Debug, Clone)]
pub struct Throttle {
    policy: ThrottlePolicy,
}

/// What recording a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureOutcome {
    /// This failure locked the account (or the IP): worth an audit event of its own.
    pub locked_now: bool,
}

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self { policy }
    }

    /// Counts an attempt against both keys *before* its credentials are checked, or refuses it
    /// if its account or IP is locked or must still wait. Every attempt that is not refused has
    /// been counted as a failure already: [`Self::confirm_failure`] then only decides on a lock,
    /// and [`Self::release`] gives the count back when the credential was right. Counting first
    /// is what makes the limits hold against guesses sent in parallel; checking first and
    /// counting after lets every request of a burst pass the check before any failure is
    /// recorded.
    pub async fn reserve(
        &self,
        pool: &AnyPool,
        keys: &Keys,
        now: i64,
    ) -> Result<Option<Refusal>, StoreError> {
        let limits = [
            (
                &keys.account,
                self.policy.account_delay_after,
                self.policy.account_lock_after,
            ),
            (
                &keys.ip,
                self.policy.ip_delay_after,
                self.policy.ip_lock_after,
            ),
        ];
        let mut reserved: Vec<&str> = Vec::new();
        for (key, delay_after, lock_after) in limits {
            if let Some(refusal) = self
                .reserve_one(pool, key, now, delay_after, lock_after)
                .await?
            {
                for key in reserved {
                    store::release(pool, key).await?;
                }
                return Ok(Some(refusal));
            }
            reserved.push(key);
        }
        Ok(None)
    }

    /// One key of [`Self::reserve`]: read, decide, compare-and-swap; read again when another
    /// attempt got in between.
    async fn reserve_one(
        &self,
        pool: &AnyPool,
        key: &str,
        now: i64,
        delay_after: i64,
        lock_after: i64,
    ) -> Result<Option<Refusal>, StoreError> {
        /// Lost races before the attempt is refused as too early: under that much contention
        /// on one key, waiting a second is the right answer anyway.
        const MAX_RACES: usize = 8;
        let window_start = now - secs(self.policy.lock_duration);
        for _ in 0..MAX_RACES {
            let seen = store::get(pool, key).await?;
            let next = match seen {
                None => 1,
                Some(counter) => {
                    if let Some(refusal) = self.refusal(counter, now, delay_after) {
                        return Ok(Some(refusal));
                    }
                    let fresh =
                        counter.last_failure_at < window_start || counter.locked_until.is_some();
                    if fresh {
                        1
                    } else if counter.failures >= lock_after {
                        // Attempts in flight have reached the limit: one of them is about to
                        // lock the key, or give its count back.
                        return Ok(Some(Refusal::Wait { seconds: 1 }));
                    } else {
                        counter.failures + 1
                    }
                }
            };
            if store::reserve(pool, key, seen, next, now).await? {
                return Ok(None);
            }
        }
        Ok(Some(Refusal::Wait { seconds: 1 }))
    }

    fn refusal(&self, counter: Counter, now: i64, delay_after: i64) -> Option<Refusal> {
        if counter.last_failure_at < now - secs(self.policy.lock_duration) {
            return None;
        }
        if let Some(until) = counter.locked_until
            && until > now
        {
            return Some(Refusal::Locked { until });
        }
        if counter.locked_until.is_some() {
            // The lock ran out: a fresh start.
            return None;
        }
        if counter.failures < delay_after {
            return None;
        }
        let exponent = u32::try_from(counter.failures - delay_after)
            .unwrap_or(u32::MAX)
            .min(16);
        let delay = (1i64 << exponent).min(secs(self.policy.max_delay));
        let ready_at = counter.last_failure_at + delay;
        (ready_at > now).then(|| Refusal::Wait {
            seconds: ready_at - now,
        })
    }

    /// The attempt reserved by [`Self::reserve`] failed: locks whichever key has reached its
    /// limit.
    pub async fn confirm_failure(
        &self,
        pool: &AnyPool,
        keys: &Keys,
        now: i64,
    ) -> Result<FailureOutcome, StoreError> {
        let window_start = now - secs(self.policy.lock_duration);
        let until = now + secs(self.policy.lock_duration);
        let mut locked_now = false;
        for (key, limit) in [
            (&keys.account, self.policy.account_lock_after),
            (&keys.ip, self.policy.ip_lock_after),
        ] {
            let reached = store::get(pool, key).await?.is_some_and(|counter| {
                counter.failures >= limit && counter.last_failure_at >= window_start
            });
            if reached {
                locked_now |= store::lock(pool, key, until).await?;
            }
        }
        Ok(FailureOutcome { locked_now })
    }

    /// The attempt reserved by [`Self::reserve`] was right (the password, before the TOTP
    /// step): its count is given back on both keys.
    pub async fn release(&self, pool: &AnyPool, keys: &Keys) -> Result<(), StoreError> {
        store::release(pool, &keys.account).await?;
        store::release(pool, &keys.ip).await
    }

    /// Deletes the counters that no longer count at `now`: failures all older than
    /// `lock_duration` and no lock still running. Returns how many.
    pub async fn sweep(&self, pool: &AnyPool, now: i64) -> Result<u64, StoreError> {
        store::sweep(pool, now - secs(self.policy.lock_duration), now).await
    }

    /// A successful login clears the account's counter and gives back the IP's count for this
    /// attempt.
    pub async fn record_success(&self, pool: &AnyPool, keys: &Keys) -> Result<(), StoreError> {
        store::reset(pool, &keys.account).await?;
        store::release(pool, &keys.ip).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(ThrottlePolicy::default())
    }

    fn counter(failures: i64, last: i64, locked_until: Option<i64>) -> Counter {
        Counter {
            failures,
            last_failure_at: last,
            locked_until,
        }
    }

    #[test]
    fn delays_double_after_the_threshold_up_to_the_cap() {
        let t = throttle();
        assert_eq!(t.refusal(counter(2, 100, None), 100, 3), None);
        assert_eq!(
            t.refusal(counter(3, 100, None), 100, 3),
            Some(Refusal::Wait { seconds: 1 })
        );
        assert_eq!(t.refusal(counter(3, 100, None), 101, 3), None);
        assert_eq!(
            t.refusal(counter(5, 100, None), 100, 3),
            Some(Refusal::Wait { seconds: 4 })
        );
        assert_eq!(
            t.refusal(counter(40, 100, None), 100, 3),
            Some(Refusal::Wait { seconds: 30 })
        );
    }

    #[test]
    fn locks_hold_until_they_run_out_and_old_failures_are_forgotten() {
        let t = throttle();
        let locked = counter(5, 100, Some(1000));
        assert_eq!(
            t.refusal(locked, 999, 3),
            Some(Refusal::Locked { until: 1000 })
        );
        assert_eq!(t.refusal(locked, 1000, 3), None);
        // A failure older than the lock duration (15 min) no longer counts.
        assert_eq!(t.refusal(counter(4, 100, None), 100 + 901, 3), None);
    }

    #[test]
    fn messages_say_how_long_to_wait() {
        assert_eq!(
            Refusal::Wait { seconds: 1 }.message(0),
            "Too many failed attempts. Wait 1 second before trying again."
        );
        assert_eq!(
            Refusal::Locked { until: 900 }.message(60),
            "Too many failed attempts. Sign-in is locked for 14 minutes."
        );
        assert_eq!(Refusal::Locked { until: 900 }.retry_after(60), 840);
    }
}
