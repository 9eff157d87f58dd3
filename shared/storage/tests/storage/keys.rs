//! Signing keys: first key, rotation with a publication delay, retention, the live view.

use std::time::Duration;

use serde_json::json;
use storage::StorageError;
use storage::signing_keys::{KeyState, LiveKeys};
use tokens::{Algorithm, ManualClock, Validator};

use crate::support::{NOW, TestDb};

/// Retention of a retired key: the 900 s token lifetime plus the validators' 300 s leeway cap.
const RETENTION: i64 = 900 + 300;

fn kids(set: &tokens::KeySet) -> Vec<String> {
    set.jwks()
        .keys()
        .iter()
        .map(|key| key.kid().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_first_key_is_created_once_and_active_at_once() {
    for test in TestDb::every_backend().await {
        let clock = ManualClock::new(NOW);
        let store = test.keys(&clock);
        store.ensure_key().await.unwrap();
        store.ensure_key().await.unwrap();
        let keys = store.list().await.unwrap();
        assert_eq!(keys.len(), 1, "{:?}", test.db.backend());
        assert_eq!(keys[0].state, KeyState::Active);
        assert_eq!(keys[0].alg, Algorithm::Es256);
        assert_eq!((keys[0].created_at, keys[0].active_from), (NOW, NOW));
        let set = store.load().await.unwrap();
        assert_eq!(set.active().kid(), keys[0].kid);
    }
}

#[tokio::test]
async fn rotation_publishes_first_signs_later_and_retires_after_the_retention() {
    for test in TestDb::every_backend().await {
        let clock = ManualClock::new(NOW);
        let store = test.keys(&clock);
        store.ensure_key().await.unwrap();
        let first = store.load().await.unwrap().active().kid().to_owned();

        let staged = store.rotate(Duration::from_secs(600)).await.unwrap();
        assert_eq!(staged.state, KeyState::Staged);
        assert_eq!(staged.active_from, NOW + 600);
        let set = store.load().await.unwrap();
        assert_eq!(
            set.active().kid(),
            first,
            "signs with the old key until the delay"
        );
        assert_eq!(kids(&set), [first.clone(), staged.kid.clone()]);

        // A second rotation while one is staged is refused and changes nothing.
        let error = store.rotate(Duration::ZERO).await.unwrap_err();
        assert!(
            matches!(&error, StorageError::AlreadyStaged { kid, active_from }
                if *kid == staged.kid && *active_from == NOW + 600),
            "{error}"
        );
        assert_eq!(store.list().await.unwrap().len(), 2);

        clock.set(NOW + 600);
        let set = store.load().await.unwrap();
        assert_eq!(set.active().kid(), staged.kid);
        assert_eq!(kids(&set), [staged.kid.clone(), first.clone()]);
        let listed = store.list().await.unwrap();
        assert_eq!(
            listed[0].state,
            KeyState::Retired {
                published_until: NOW + 600 + RETENTION
            }
        );

        clock.set(NOW + 600 + RETENTION - 1);
        assert_eq!(kids(&store.load().await.unwrap()).len(), 2);
        clock.set(NOW + 600 + RETENTION);
        assert_eq!(
            kids(&store.load().await.unwrap()),
            std::slice::from_ref(&staged.kid)
        );
        assert_eq!(store.list().await.unwrap()[0].state, KeyState::Withdrawn);
    }
}

#[tokio::test]
async fn a_rotation_in_the_same_second_starts_a_second_later() {
    let test = TestDb::sqlite().await;
    let clock = ManualClock::new(NOW);
    let store = test.keys(&clock);
    store.ensure_key().await.unwrap();
    let rotated = store.rotate(Duration::ZERO).await.unwrap();
    assert_eq!(rotated.active_from, NOW + 1);
    assert_eq!(rotated.state, KeyState::Staged);
    clock.advance(1);
    assert_eq!(store.load().await.unwrap().active().kid(), rotated.kid);
}

#[tokio::test]
async fn rotation_needs_an_active_key() {
    let test = TestDb::sqlite().await;
    let clock = ManualClock::new(NOW);
    let error = test.keys(&clock).rotate(Duration::ZERO).await.unwrap_err();
    assert!(matches!(error, StorageError::NoActiveKey), "{error}");
    let error = test.keys(&clock).load().await.unwrap_err();
    assert!(matches!(error, StorageError::NoActiveKey), "{error}");
}

#[tokio::test]
async fn a_row_whose_kid_is_not_its_keys_thumbprint_is_refused() {
    let test = TestDb::sqlite().await;
    let clock = ManualClock::new(NOW);
    let store = test.keys(&clock);
    store.ensure_key().await.unwrap();
    sqlx::query("UPDATE signing_keys SET kid = 'forged'")
        .execute(test.db.pool())
        .await
        .unwrap();
    let error = store.load().await.unwrap_err();
    assert!(
        matches!(&error, StorageError::CorruptKey { kid, .. } if kid == "forged"),
        "{error}"
    );
}

#[tokio::test]
async fn live_keys_sign_verifiably_and_follow_a_rotation_made_elsewhere() {
    let test = TestDb::sqlite().await;
    let clock = ManualClock::new(NOW);
    let store = test.keys(&clock);
    store.ensure_key().await.unwrap();
    let live = LiveKeys::start(store, Duration::from_millis(100))
        .await
        .unwrap();
    let first = live.current().active().kid().to_owned();

    // Another process (an admin command) rotates with no delay, a little later.
    clock.advance(10);
    let admin = test.keys(&clock);
    let rotated = admin.rotate(Duration::ZERO).await.unwrap();
    assert_eq!(rotated.state, KeyState::Active);
    // The background refresh picks it up without being asked.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while live.current().active().kid() == first {
        assert!(tokio::time::Instant::now() < deadline, "rotation not seen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let set = live.current();
    assert_eq!(set.active().kid(), rotated.kid);

    let token = set
        .sign(
            "at+jwt",
            &json!({"iss": "https://iam.test", "aud": "x", "exp": NOW + 60, "iat": NOW}),
        )
        .unwrap();
    let validator = Validator::builder()
        .issuer("https://iam.test")
        .audience("x")
        .typ("at+jwt")
        .algorithms(&[Algorithm::Es256])
        .clock(clock.clone())
        .keys(set.jwks())
        .build()
        .unwrap();
    let verified = validator
        .validate::<serde_json::Value>(&token)
        .await
        .unwrap();
    assert_eq!(verified.kid(), rotated.kid);
}
