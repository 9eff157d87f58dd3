//! The JWKS cache against a real HTTP server on 127.0.0.1:0, counting the requests it gets.
//! Time is a `ManualClock`: TTLs, refresh intervals and stale windows are crossed by moving it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokens::jwks::{CacheConfigError, FetchError, HttpFetcher, KeyLookupError};
use tokens::{JwksCache, KeySet, ManualClock, SigningKey, ValidationError, Validator};

use crate::support::*;

fn validator(cache: JwksCache, clock: Arc<ManualClock>) -> Validator {
    access_validator().clock(clock).keys(cache).build().unwrap()
}

/// A token from `key` that stays unexpired however far these tests move the clock.
async fn valid(validator: &Validator, key: &SigningKey) -> Result<Value, ValidationError> {
    let claims = access_claims_with(json!({"exp": NOW + 10_000}));
    validator
        .validate::<Value>(&access_token(key, &claims))
        .await
        .map(tokens::Verified::into_claims)
}

/// A token from a key that is not published: a forged or random `kid`.
async fn unknown(validator: &Validator) -> ValidationError {
    let stranger = es256();
    let error = valid(validator, &stranger).await.unwrap_err();
    assert_eq!(
        error,
        ValidationError::UnknownKid(stranger.kid().to_owned())
    );
    error
}

#[tokio::test]
async fn the_set_is_refetched_when_the_ttl_expires_and_not_before() {
    let key = es256();
    let server = JwksServer::for_keys(&[&key]).await;
    let clock = ManualClock::new(NOW);
    let cache = cache_builder(&server, clock.clone()).build().unwrap();
    let validator = validator(cache, clock.clone());

    valid(&validator, &key).await.unwrap();
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 1);
    clock.advance(TTL - 1);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 1);
    clock.advance(1);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_per_interval_then_fails() {
    let key = es256();
    let server = JwksServer::for_keys(&[&key]).await;
    let clock = ManualClock::new(NOW);
    let cache = cache_builder(&server, clock.clone()).build().unwrap();
    let validator = validator(cache, clock.clone());
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 1);

    // The first unknown `kid` after the interval triggers one refetch; it is still unknown.
    clock.advance(MIN_REFRESH);
    unknown(&validator).await;
    assert_eq!(server.hits(), 2);
    // More unknown `kid`s within the interval cost nothing.
    for _ in 0..10 {
        unknown(&validator).await;
    }
    clock.advance(MIN_REFRESH - 1);
    unknown(&validator).await;
    assert_eq!(server.hits(), 2);
    // Known keys keep working meanwhile.
    valid(&validator, &key).await.unwrap();
    clock.advance(1);
    unknown(&validator).await;
    assert_eq!(server.hits(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_causes_exactly_one_fetch() {
    let key = es256();
    let server = JwksServer::for_keys(&[&key]).await;
    let clock = ManualClock::new(NOW);
    let cache = cache_builder(&server, clock.clone()).build().unwrap();
    let validator = validator(cache, clock.clone());
    valid(&validator, &key).await.unwrap();
    clock.advance(MIN_REFRESH);
    // A slow endpoint, so all lookups are in flight together.
    server.set_delay(Some(Duration::from_millis(200)));

    let tokens: Vec<(String, String)> = (0..100)
        .map(|_| {
            let stranger = es256();
            (
                access_token(&stranger, &access_claims()),
                stranger.kid().to_owned(),
            )
        })
        .collect();
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|(token, kid)| {
            let validator = validator.clone();
            tokio::spawn(async move { (validator.validate::<Value>(&token).await, kid) })
        })
        .collect();
    for task in tasks {
        let (outcome, kid) = task.await.unwrap();
        assert_eq!(outcome.unwrap_err(), ValidationError::UnknownKid(kid));
    }
    assert_eq!(
        server.hits(),
        2,
        "one warm-up fetch and exactly one refetch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_on_a_cold_cache_share_one_fetch() {
    let key = es256();
    let server = JwksServer::for_keys(&[&key]).await;
    server.set_delay(Some(Duration::from_millis(200)));
    let clock = ManualClock::new(NOW);
    let cache = cache_builder(&server, clock.clone()).build().unwrap();
    let validator = validator(cache, clock);
    let token = access_token(&key, &access_claims());
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (validator, token) = (validator.clone(), token.clone());
            tokio::spawn(async move { validator.validate::<Value>(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn key_rotation_is_picked_up() {
    // The issuer side is a real KeySet: stage, publish, rotate, retire.
    let clock = ManualClock::new(NOW);
    let first = es256();
    let first_copy = SigningKey::from_pkcs8(first.algorithm(), first.pkcs8_der(), None).unwrap();
    let mut issuer = KeySet::new(first, Duration::from_secs(600), clock.clone());
    let server = JwksServer::start(issuer.jwks().to_json()).await;
    let cache = cache_builder(&server, clock.clone()).build().unwrap();
    let validator = validator(cache, clock.clone());
    let sign = |issuer: &KeySet| issuer.sign("at+jwt", &access_claims()).unwrap();

    validator.validate::<Value>(&sign(&issuer)).await.unwrap();
    assert_eq!(server.hits(), 1);

    // Staged keys are published ahead of use; after one TTL every validator has them...
    let second = es256();
    let second_copy = SigningKey::from_pkcs8(second.algorithm(), second.pkcs8_der(), None).unwrap();
    issuer.stage(second).unwrap();
    server.serve(issuer.jwks().to_json());
    clock.advance(TTL);
    validator.validate::<Value>(&sign(&issuer)).await.unwrap();
    assert_eq!(server.hits(), 2);
    // ...so the rotation itself costs no fetch.
    issuer.rotate().unwrap();
    server.serve(issuer.jwks().to_json());
    validator.validate::<Value>(&sign(&issuer)).await.unwrap();
    assert_eq!(server.hits(), 2);
    // Tokens signed by the retired key still verify while it is published.
    validator
        .validate::<Value>(&access_token(&first_copy, &access_claims()))
        .await
        .unwrap();

    // An emergency rotation to an unstaged key is found through the unknown-`kid` refetch.
    let third = es256();
    issuer.rotate_to(third).unwrap();
    server.serve(issuer.jwks().to_json());
    clock.advance(MIN_REFRESH);
    validator.validate::<Value>(&sign(&issuer)).await.unwrap();
    assert_eq!(server.hits(), 3);

    // Once the retired keys are withdrawn, the next TTL refresh drops them.
    clock.advance(600 + 300);
    issuer.prune();
    server.serve(issuer.jwks().to_json());
    assert_eq!(issuer.jwks().keys().len(), 1);
    let outcome = validator
        .validate::<Value>(&access_token(&second_copy, &access_claims()))
        .await;
    assert_eq!(
        outcome.unwrap_err(),
        ValidationError::UnknownKid(second_copy.kid().to_owned())
    );
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn the_last_good_set_is_served_within_the_stale_window() {
    let key = es256();
    let server = JwksServer::for_keys(&[&key]).await;
    let clock = ManualClock::new(NOW);
    let cache = cache_builder(&server, clock.clone()).build().unwrap();
    let validator = validator(cache, clock.clone());
    valid(&validator, &key).await.unwrap();

    server.set_failing(true);
    clock.advance(TTL);
    // The refresh fails; the stale set still answers.
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 2);
    // Retries are rate limited like any other fetch.
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 2);
    clock.advance(MIN_REFRESH);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 3);

    // Past the stale window there is nothing left to trust.
    clock.set(NOW + TTL + MAX_STALE);
    let error = valid(&validator, &key).await.unwrap_err();
    assert_eq!(
        error,
        ValidationError::KeysUnavailable(FetchError::Status(500).to_string())
    );
    assert_eq!(error.http_status(), 503);
    assert_eq!(server.hits(), 4);

    // The issuer comes back; so does validation (after the refresh interval).
    server.set_failing(false);
    clock.advance(MIN_REFRESH);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 5);
}

#[tokio::test]
async fn cache_control_may_shorten_the_ttl_but_not_lengthen_it() {
    let key = es256();
    let server = JwksServer::for_keys(&[&key]).await;
    let clock = ManualClock::new(NOW);
    let cache = cache_builder(&server, clock.clone()).build().unwrap();
    let validator = validator(cache, clock.clone());

    server.set_cache_control(Some("max-age=60"));
    valid(&validator, &key).await.unwrap();
    clock.advance(59);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 1);
    clock.advance(1);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 2);

    // A longer max-age is capped at the configured TTL.
    server.set_cache_control(Some("public, max-age=86400"));
    clock.advance(60);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 3);
    clock.advance(TTL);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 4);

    // `no-store` still caches for the minimum refresh interval: otherwise every request
    // would fetch.
    server.set_cache_control(Some("no-store"));
    clock.advance(TTL);
    valid(&validator, &key).await.unwrap();
    clock.advance(MIN_REFRESH - 1);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 5);
    clock.advance(1);
    valid(&validator, &key).await.unwrap();
    assert_eq!(server.hits(), 6);
}

#[tokio::test]
async fn fetch_failures_are_specific() {
    let server = JwksServer::start(json!({"keys": []})).await;
    let clock = ManualClock::new(NOW);
    let refresh = |path: &str, client: reqwest::Client| {
        let fetcher = HttpFetcher::new(client, server.url_of(path)).unwrap();
        let cache = JwksCache::builder(fetcher)
            .clock(clock.clone())
            .build()
            .unwrap();
        async move { cache.refresh().await }
    };
    assert_eq!(
        refresh("/missing", client()).await,
        Err(FetchError::Status(404))
    );
    assert_eq!(
        refresh("/moved", client()).await,
        Err(FetchError::Status(307))
    );
    // A client that follows redirects gets there, and the answer is still refused.
    let following = reqwest::Client::builder().build().unwrap();
    assert_eq!(
        refresh("/moved", following).await,
        Err(FetchError::Redirected)
    );
    assert_eq!(
        refresh("/huge", client()).await,
        Err(FetchError::TooLarge(64 * 1024))
    );
    assert!(matches!(
        refresh("/not-json", client()).await,
        Err(FetchError::InvalidDocument(_))
    ));
    assert_eq!(refresh("/jwks", client()).await, Ok(0));
}

#[tokio::test]
async fn a_hung_issuer_is_cut_off_by_the_fetch_timeout() {
    let server = JwksServer::start(json!({"keys": []})).await;
    server.set_delay(Some(Duration::from_secs(30)));
    let cache = cache_builder(&server, ManualClock::new(NOW))
        .fetch_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    assert_eq!(
        cache.key("any").await.unwrap_err(),
        KeyLookupError::Unavailable(FetchError::Timeout(Duration::from_millis(100)).to_string())
    );
}

#[test]
fn insecure_uris_and_bad_configurations_are_refused() {
    let uri = url::Url::parse("http://iam.example/jwks").unwrap();
    assert_eq!(
        HttpFetcher::new(client(), uri.clone()).unwrap_err(),
        FetchError::InsecureUri(uri.to_string())
    );
    let local = url::Url::parse("http://127.0.0.1:1/jwks").unwrap();
    let builder = || JwksCache::http(client(), local.clone()).unwrap();
    let cases = [
        (builder().ttl(Duration::ZERO), CacheConfigError::ZeroTtl),
        (
            builder().min_refresh_interval(Duration::ZERO),
            CacheConfigError::ZeroRefreshInterval,
        ),
        (
            builder()
                .ttl(Duration::from_secs(10))
                .min_refresh_interval(Duration::from_secs(11)),
            CacheConfigError::RefreshIntervalOverTtl,
        ),
        (
            builder().fetch_timeout(Duration::ZERO),
            CacheConfigError::ZeroTimeout,
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err(), expected);
    }
}
