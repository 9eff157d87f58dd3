//! The session store on SQLite and, when `TEST_POSTGRES_URL` names a server, on PostgreSQL:
//! the same migrations, the same single-use and compare-and-swap rules.

use ring::rand::SystemRandom;
use storage::Database;
use tokens::{Algorithm, SigningKey};
use web_app::session::{Opaque, PendingLogin, Sensitive, Session, StoredKey, Tokens, store};

async fn exercise(db: &Database) {
    db.migrate(&web_app::MIGRATOR).await.unwrap();
    let pool = db.pool();
    let rng = SystemRandom::new();
    let key = StoredKey::from_key(&SigningKey::generate(Algorithm::Es256).unwrap());

    let login_id = Opaque::generate(&rng).unwrap();
    let pending = PendingLogin {
        state: Sensitive::new("state"),
        nonce: Sensitive::new("nonce"),
        pkce_verifier: Sensitive::new("verifier"),
        dpop_key: key.clone(),
        request_id: "login-request-0001".into(),
        steps: Vec::new(),
        expires_at: 1_600,
    };
    store::insert_pending(pool, &login_id, &pending, 1_000)
        .await
        .unwrap();
    let taken = store::take_pending(pool, &login_id, 1_001)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.state, pending.state);
    assert_eq!(taken.dpop_key, key);
    assert!(
        store::take_pending(pool, &login_id, 1_001)
            .await
            .unwrap()
            .is_none(),
        "a pending login is used once"
    );
    store::insert_pending(pool, &login_id, &pending, 1_000)
        .await
        .unwrap();
    assert!(
        store::take_pending(pool, &login_id, 1_600)
            .await
            .unwrap()
            .is_none(),
        "an expired pending login is not returned"
    );

    let session_id = Opaque::generate(&rng).unwrap();
    let tokens = Tokens {
        access_token: Sensitive::new("access-1"),
        access_expires_at: 1_600,
        refresh_token: Some(Sensitive::new("refresh-1")),
        id_token: Sensitive::new("id-1"),
        scopes: vec!["openid".into(), "chatbot:access".into()],
    };
    let session = Session {
        id_hash: String::new(),
        subject: "demo-user-alice".into(),
        username: Some("alice".into()),
        display_name: None,
        csrf_token: Sensitive::new("csrf"),
        tokens: tokens.clone(),
        nonce: Sensitive::new("nonce"),
        dpop_key: key,
        login_steps: Vec::new(),
        login_request_id: "login-request-0001".into(),
        created_at: 1_000,
        expires_at: 2_000,
    };
    store::insert_session(pool, &session_id, &session, 1_000)
        .await
        .unwrap();
    let read = store::get_session(pool, &session_id, 1_500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.id_hash, session_id.hashed());
    assert_eq!(read.greeting_name(), "alice");
    assert!(read.tokens.has_scope("chatbot:access"));
    assert!(
        store::get_session(pool, &session_id, 2_000)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );

    let refreshed = Tokens {
        access_token: Sensitive::new("access-2"),
        refresh_token: Some(Sensitive::new("refresh-2")),
        ..tokens.clone()
    };
    assert!(
        store::replace_tokens(pool, &read.id_hash, &tokens.access_token, &refreshed)
            .await
            .unwrap()
    );
    assert!(
        !store::replace_tokens(pool, &read.id_hash, &tokens.access_token, &refreshed)
            .await
            .unwrap(),
        "tokens are replaced only from the ones they were refreshed from"
    );
    let read = store::get_session(pool, &session_id, 1_500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.tokens.access_token, Sensitive::new("access-2"));
    store::delete_session(pool, &read.id_hash).await.unwrap();
    assert!(
        store::get_session(pool, &session_id, 1_500)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_store_works_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    exercise(&db).await;
}

#[tokio::test]
async fn the_store_works_on_postgresql() {
    let Some(url) = storage::testing::scratch_postgres_url("web_app_test")
        .await
        .unwrap()
    else {
        return;
    };
    let db = Database::connect(&url).await.unwrap();
    assert_eq!(db.backend(), storage::Backend::Postgres);
    exercise(&db).await;
}
