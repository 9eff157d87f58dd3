//! The issuer's side: the signing key in use, the keys still to be published, and signing.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::jws::{self, JwsError};
use crate::validate::MAX_LEEWAY;
use crate::{Jwks, PublicJwk, SharedClock, SigningKey};

/// Why a key set refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySetError {
    #[error("no key is staged to rotate to")]
    NothingStaged,
    #[error("the key `{0}` is already in the set")]
    DuplicateKid(String),
    #[error("the claims have no integer `exp`; every token this system signs expires")]
    MissingExp,
    #[error("the token would expire at {exp}, after the key set's limit of {limit}")]
    LifetimeTooLong { exp: i64, limit: i64 },
    #[error(transparent)]
    Jws(#[from] JwsError),
}

/// An issuer's signing keys: the active key, optionally the next one, and the retired ones
/// that must stay published.
///
/// **The retention rule.** A token signed with a key just before that key retires is valid
/// until its `exp`, at most `max_token_lifetime` later, and validators accept it up to their
/// leeway (at most [`MAX_LEEWAY`]) after that. So a retired key stays in the published JWKS
/// until `retired_at + max_token_lifetime + MAX_LEEWAY`. [`Self::sign`] refuses claims whose
/// `exp` lies further ahead than `max_token_lifetime`, which is what makes the rule sufficient.
///
/// **Rotation without downtime.** Validators learn a new `kid` when they refetch the JWKS: on
/// their TTL, or on an unknown `kid` at most once per refresh interval. [`Self::stage`]
/// publishes the next key before it signs anything, so after one validator TTL every cache
/// already holds it and [`Self::rotate`] costs no refetch at all. Rotating to an unstaged key
/// ([`Self::rotate_to`]) also works, relying on the unknown-`kid` refetch.
#[derive(Debug)]
pub struct KeySet {
    active: SigningKey,
    staged: Option<SigningKey>,
    retired: Vec<Retired>,
    max_token_lifetime: i64,
    clock: SharedClock,
}

#[derive(Debug)]
struct Retired {
    public: PublicJwk,
    retired_at: i64,
}

impl KeySet {
    /// A set whose tokens live at most `max_token_lifetime`.
    pub fn new(active: SigningKey, max_token_lifetime: Duration, clock: SharedClock) -> Self {
        Self {
            active,
            staged: None,
            retired: Vec::new(),
            max_token_lifetime: i64::try_from(max_token_lifetime.as_secs()).unwrap_or(i64::MAX),
            clock,
        }
    }

    /// Rebuilds a set from keys kept in storage: the active key, the staged one if any, and
    /// retired keys with the time each stopped signing (`retired_at`, seconds since the epoch).
    ///
    /// Retired keys past their retention are left out; a `kid` that appears twice is refused.
    pub fn from_parts(
        active: SigningKey,
        staged: Option<SigningKey>,
        retired: Vec<(PublicJwk, i64)>,
        max_token_lifetime: Duration,
        clock: SharedClock,
    ) -> Result<Self, KeySetError> {
        let mut set = Self::new(active, max_token_lifetime, clock);
        if let Some(staged) = staged {
            set.stage(staged)?;
        }
        for (public, retired_at) in retired {
            let kid = public.kid().unwrap_or_default().to_owned();
            if set.contains(&kid) {
                return Err(KeySetError::DuplicateKid(kid));
            }
            set.retired.push(Retired { public, retired_at });
        }
        set.prune();
        Ok(set)
    }

    /// The key new tokens are signed with.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The key published ahead of use, if any.
    pub fn staged(&self) -> Option<&SigningKey> {
        self.staged.as_ref()
    }

    /// Publishes `next` ahead of use; [`Self::rotate`] makes it active.
    pub fn stage(&mut self, next: SigningKey) -> Result<(), KeySetError> {
        if self.contains(next.kid()) {
            return Err(KeySetError::DuplicateKid(next.kid().to_owned()));
        }
        self.staged = Some(next);
        Ok(())
    }

    /// Makes the staged key active and retires the previous one.
    pub fn rotate(&mut self) -> Result<(), KeySetError> {
        let next = self.staged.take().ok_or(KeySetError::NothingStaged)?;
        self.retire_active(next);
        Ok(())
    }

    /// Makes `next` active at once, retiring the current key (for an emergency, such as a
    /// leaked key; validators pick `next` up through their unknown-`kid` refetch).
    pub fn rotate_to(&mut self, next: SigningKey) -> Result<(), KeySetError> {
        if self.contains(next.kid()) {
            return Err(KeySetError::DuplicateKid(next.kid().to_owned()));
        }
        self.retire_active(next);
        Ok(())
    }

    fn retire_active(&mut self, next: SigningKey) {
        let previous = std::mem::replace(&mut self.active, next);
        self.retired.push(Retired {
            public: previous.public_jwk().clone(),
            retired_at: self.clock.now(),
        });
        self.prune();
    }

    /// Forgets retired keys whose tokens have all expired (see the retention rule).
    pub fn prune(&mut self) {
        let now = self.clock.now();
        let retention = self.retention();
        self.retired
            .retain(|key| now < key.retired_at.saturating_add(retention));
    }

    /// The JWK Set to publish: the active key, the staged key, and every retired key still
    /// within its retention.
    pub fn jwks(&self) -> Jwks {
        let now = self.clock.now();
        let retention = self.retention();
        let mut keys = vec![self.active.public_jwk().clone()];
        keys.extend(self.staged.iter().map(|key| key.public_jwk().clone()));
        keys.extend(
            self.retired
                .iter()
                .filter(|key| now < key.retired_at.saturating_add(retention))
                .map(|key| key.public.clone()),
        );
        Jwks::new(keys)
    }

    /// Signs `claims` with the active key, as a compact JWS with this `typ` and the key's `kid`.
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, KeySetError> {
        let claims = serde_json::to_value(claims)
            .map_err(|_| JwsError::NotJsonObject(jws::Segment::Payload))?;
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(KeySetError::MissingExp)?;
        let limit = self.clock.now().saturating_add(self.max_token_lifetime);
        if exp > limit {
            return Err(KeySetError::LifetimeTooLong { exp, limit });
        }
        Ok(jws::sign(&self.active, typ, &claims, None)?)
    }

    /// How long a retired key stays published.
    fn retention(&self) -> i64 {
        let leeway = i64::try_from(MAX_LEEWAY.as_secs()).unwrap_or(i64::MAX);
        self.max_token_lifetime.saturating_add(leeway)
    }

    fn contains(&self, kid: &str) -> bool {
        self.active.kid() == kid
            || self.staged.as_ref().is_some_and(|k| k.kid() == kid)
            || self.retired.iter().any(|k| k.public.kid() == Some(kid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, ManualClock};
    use serde_json::json;

    const LIFETIME: i64 = 900;
    const RETENTION: i64 = LIFETIME + 300;

    fn kids(set: &KeySet) -> Vec<String> {
        set.jwks()
            .keys()
            .iter()
            .map(|k| k.kid().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn retired_keys_stay_published_until_their_tokens_expire() {
        let clock = ManualClock::new(1_000);
        let first = SigningKey::generate(Algorithm::Es256).unwrap();
        let first_kid = first.kid().to_owned();
        let mut set = KeySet::new(first, Duration::from_secs(900), clock.clone());

        let second = SigningKey::generate(Algorithm::Es256).unwrap();
        let second_kid = second.kid().to_owned();
        set.stage(second).unwrap();
        // Staged: published, not yet signing.
        assert_eq!(kids(&set), [first_kid.clone(), second_kid.clone()]);
        assert_eq!(set.active().kid(), first_kid);

        set.rotate().unwrap();
        assert_eq!(set.active().kid(), second_kid);
        clock.advance(RETENTION - 1);
        assert_eq!(kids(&set), [second_kid.clone(), first_kid.clone()]);
        clock.advance(1);
        assert_eq!(kids(&set), [second_kid]);
        set.prune();
        assert_eq!(set.rotate(), Err(KeySetError::NothingStaged));
    }

    #[test]
    fn signing_refuses_tokens_that_outlive_the_retention_rule() {
        let clock = ManualClock::new(1_000);
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let set = KeySet::new(key, Duration::from_secs(LIFETIME as u64), clock);
        let token = set
            .sign("at+jwt", &json!({"exp": 1_000 + LIFETIME}))
            .unwrap();
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(
            set.sign("at+jwt", &json!({"exp": 1_001 + LIFETIME})),
            Err(KeySetError::LifetimeTooLong {
                exp: 1_001 + LIFETIME,
                limit: 1_000 + LIFETIME
            })
        );
        assert_eq!(
            set.sign("at+jwt", &json!({"sub": "x"})),
            Err(KeySetError::MissingExp)
        );
    }

    #[test]
    fn rebuilt_sets_publish_what_they_were_given_within_retention() {
        let clock = ManualClock::new(10_000);
        let active = SigningKey::generate(Algorithm::Es256).unwrap();
        let staged = SigningKey::generate(Algorithm::Es256).unwrap();
        let recent = SigningKey::generate(Algorithm::Es256).unwrap();
        let old = SigningKey::generate(Algorithm::Es256).unwrap();
        let expected = [
            active.kid().to_owned(),
            staged.kid().to_owned(),
            recent.kid().to_owned(),
        ];
        let set = KeySet::from_parts(
            active,
            Some(staged),
            vec![
                (recent.public_jwk().clone(), 10_000 - RETENTION + 1),
                (old.public_jwk().clone(), 10_000 - RETENTION),
            ],
            Duration::from_secs(LIFETIME as u64),
            clock,
        )
        .unwrap();
        assert_eq!(kids(&set), expected);
        assert_eq!(
            set.staged().map(SigningKey::kid),
            Some(expected[1].as_str())
        );
    }

    #[test]
    fn rebuilt_sets_refuse_a_kid_twice() {
        let clock = ManualClock::new(0);
        let active = SigningKey::generate(Algorithm::Es256).unwrap();
        let kid = active.kid().to_owned();
        let public = active.public_jwk().clone();
        let error = KeySet::from_parts(
            active,
            None,
            vec![(public, 0)],
            Duration::from_secs(60),
            clock,
        )
        .unwrap_err();
        assert_eq!(error, KeySetError::DuplicateKid(kid));
    }

    #[test]
    fn a_kid_is_never_in_the_set_twice() {
        let clock = ManualClock::new(0);
        let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let copy = SigningKey::from_pkcs8(Algorithm::EdDsa, key.pkcs8_der(), None).unwrap();
        let kid = key.kid().to_owned();
        let mut set = KeySet::new(key, Duration::from_secs(60), clock);
        assert_eq!(set.stage(copy), Err(KeySetError::DuplicateKid(kid)));
    }
}
