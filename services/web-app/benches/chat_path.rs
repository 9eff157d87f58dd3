//! What the web app itself adds to each chat request, beside the call to Agent B: reading the
//! session (one SQLite query), the session's DPoP key (cached, against parsing it from PKCS#8
//! every time), signing the proof, and building the 23-step timeline.
//!
//! `cargo bench -p web-app --bench chat_path`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::Criterion;
use http::Method;
use ring::rand::SystemRandom;
use storage::Database;
use tokens::{Algorithm, Htu, ManualClock, SharedClock, SigningKey};
use web_app::session::{KeyCache, Opaque, Sensitive, Session, StoredKey, Tokens, store};
use web_app::timeline::Timeline;
use wire::Outcome;
use wire::chat::TimelineStep;

const NOW: i64 = 1_800_000_000;

fn session(key: StoredKey) -> Session {
    Session {
        id_hash: String::new(),
        subject: "demo-user-alice".into(),
        username: Some("alice".into()),
        display_name: Some("Alice Example".into()),
        csrf_token: Sensitive::new("c".repeat(43)),
        tokens: Tokens {
            // A realistic size: the IAM's access tokens are about 900 bytes.
            access_token: Sensitive::new("a".repeat(900)),
            access_expires_at: NOW + 600,
            refresh_token: Some(Sensitive::new("r".repeat(43))),
            id_token: Sensitive::new("i".repeat(800)),
            scopes: vec!["openid".into(), "chatbot:access".into()],
        },
        nonce: Sensitive::new("n".repeat(43)),
        dpop_key: key,
        login_steps: (1..=9).map(step).collect(),
        login_request_id: "login-request-0001".into(),
        created_at: NOW,
        expires_at: NOW + 8 * 3600,
    }
}

fn step(number: u32) -> TimelineStep {
    TimelineStep {
        step: number,
        service: if (12..=22).contains(&number) {
            "agent-b"
        } else {
            "web-app"
        }
        .into(),
        check: "a check of a few words".into(),
        outcome: Outcome::Ok,
        duration_ms: 0.42,
        detail: Some("and a detail".into()),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = runtime.block_on(async {
        let db = Database::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
            .await
            .unwrap();
        db.migrate(&web_app::MIGRATOR).await.unwrap();
        db
    });
    let clock: SharedClock = ManualClock::new(NOW);
    let stored = StoredKey::from_key(&SigningKey::generate(Algorithm::Es256).unwrap());
    let id = Opaque::generate(&SystemRandom::new()).unwrap();
    let mut session = session(stored.clone());
    runtime.block_on(async {
        store::insert_session(db.pool(), &id, &session, NOW)
            .await
            .unwrap();
    });
    session.id_hash = id.hashed();
    let htu = Htu::parse("https://localhost:7445/v1/chat").unwrap();
    let token = session.tokens.access_token.expose().to_owned();
    let keys = KeyCache::default();
    let records: Vec<TimelineStep> = (1..=23).map(step).collect();

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("session read (SQLite)", |b| {
        b.iter(|| {
            runtime
                .block_on(store::get_session(db.pool(), black_box(&id), NOW))
                .unwrap()
                .unwrap()
        });
    });
    c.bench_function("DPoP proof, key cached", |b| {
        b.iter(|| {
            let key = keys.get(&session, &clock).unwrap();
            key.proof(&Method::POST, &htu, Some(black_box(&token)), None)
                .unwrap()
        });
    });
    c.bench_function("DPoP proof, key parsed from PKCS#8", |b| {
        b.iter(|| {
            let key = black_box(&stored).load(clock.clone()).unwrap();
            key.proof(&Method::POST, &htu, Some(black_box(&token)), None)
                .unwrap()
        });
    });
    c.bench_function("timeline of 23 steps", |b| {
        b.iter(|| Timeline::build(black_box(&records), 1..=5));
    });
    c.final_summary();
}
