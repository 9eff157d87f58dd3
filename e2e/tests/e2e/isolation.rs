//! Alice never sees bob's data, nor bob alice's: both signed in at once (two browsers, two
//! sessions), each asks for everything the chatbot fetches from Agent A (balance, orders,
//! profile: Agent B's intents) and gets only their own records, as `infra/data/service-a2.toml`
//! holds them. Crossing sessions by tampering with the cookie or the CSRF token reaches no one's
//! data, and leaves both sessions working.

use std::time::Duration;

use e2e::Program;
use e2e::kit::{Page, TestEnv, demo_user};
use http::{StatusCode, header};
use wire::Outcome;
use wire::steps;

use e2e::kit::{Account, DemoRecords};

/// One message per intent that needs Agent A (see Agent B's `intent.rs`).
const BALANCE: &str = "What is my balance?";
const ORDERS: &str = "Show my recent orders";
const PROFILE: &str = "What email do you have for me?";

#[tokio::test]
async fn each_customer_sees_only_their_own_records() {
    let env = TestEnv::start().await;
    let records = DemoRecords::shipped();
    let alice = env.browser();
    alice.login("alice").await;
    let bob = env.browser();
    bob.login("bob").await;

    for (browser, user, other) in [(&alice, "alice", "bob"), (&bob, "bob", "alice")] {
        let own = records.account_of(user);
        let others = records.account_of(other);
        for message in [BALANCE, ORDERS, PROFILE] {
            let page = browser.chat(message).await;
            page.assert_status(StatusCode::OK, &format!("{user}: {message}"));
            // Thousands separators are presentation; the amounts are the records.
            let shown = page.body.replace(',', "");
            let expected: Vec<String> = match message {
                BALANCE => vec![own.balance()],
                ORDERS => own.order.iter().map(|o| o.order_id.clone()).collect(),
                _ => vec![own.email.clone(), own.display_name.clone()],
            };
            assert!(!expected.is_empty());
            for value in expected {
                assert!(
                    shown.contains(&value),
                    "{user} asked {message:?}: {value:?} missing"
                );
            }
            assert_none_of(&shown, others, user, message);
        }
    }
}

#[tokio::test]
async fn tampered_cookies_and_csrf_tokens_cross_no_sessions() {
    let env = TestEnv::start().await;
    let records = DemoRecords::shipped();
    let alice = env.browser();
    alice.login("alice").await;
    let bob = env.browser();
    bob.login("bob").await;
    // The session cookie's name on the plain-http dev origin (`__Host-` only over TLS).
    let alice_session = alice.cookie("web_session").unwrap();
    let bob_session = bob.cookie("web_session").unwrap();
    let alice_csrf = alice.chat_page().await.input("csrf_token").unwrap();
    let bob_csrf = bob.chat_page().await.input("csrf_token").unwrap();
    let http = e2e::http_client(Duration::from_secs(60)).unwrap();
    let post = |cookie: String, csrf: String| {
        let http = http.clone();
        let url = env.web_url("/chat");
        async move { post_chat(&http, &url, &cookie, &csrf).await }
    };

    // Bob's session with alice's CSRF token: a token is good only in the session it was
    // issued to.
    let page = post(format!("web_session={bob_session}"), alice_csrf.clone()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.body.contains("This form has expired"), "{page}");
    assert_no_records(&page, &records);
    assert_refused_at_step_10(&env, &page).await;

    // Alice's session id with one character changed: no session at all.
    let tampered = flip_last(&alice_session);
    let page = post(format!("web_session={tampered}"), alice_csrf.clone()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(page.header("location"), Some("/chat"), "{page}");
    assert_refused_at_step_10(&env, &page).await;

    // Both sessions' cookies at once: the app cannot tell which one it set, so neither.
    let both = format!("web_session={alice_session}; web_session={bob_session}");
    let page = post(both, alice_csrf.clone()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(page.header("location"), Some("/chat"), "{page}");
    assert_refused_at_step_10(&env, &page).await;

    // Alice's session, no CSRF token at all.
    let page = post(format!("web_session={alice_session}"), String::new()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{page}");
    assert_refused_at_step_10(&env, &page).await;

    // Nothing changed: each session still answers its own customer.
    for (browser, user, other, csrf) in [
        (&alice, "alice", "bob", &alice_csrf),
        (&bob, "bob", "alice", &bob_csrf),
    ] {
        let page = browser.chat(BALANCE).await;
        page.assert_status(StatusCode::OK, &format!("{user} after the tampering"));
        let shown = page.body.replace(',', "");
        assert!(
            shown.contains(&records.account_of(user).balance()),
            "{page}"
        );
        assert_none_of(&shown, records.account_of(other), user, BALANCE);
        assert_eq!(
            browser.chat_page().await.input("csrf_token").as_ref(),
            Some(csrf),
            "{user}'s CSRF token is unchanged"
        );
    }
}

/// `POST /chat` with exactly this `Cookie` header and CSRF token.
async fn post_chat(http: &reqwest::Client, url: &str, cookie: &str, csrf: &str) -> Page {
    let mut form = vec![("message", BALANCE)];
    if !csrf.is_empty() {
        form.push(("csrf_token", csrf));
    }
    let response = http
        .post(url)
        .header(header::COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    Page {
        url: url.to_owned(),
        status,
        headers,
        body: response.text().await.unwrap(),
    }
}

/// None of `other`'s identifying values (balance, name, email, order ids, `sub`) is shown.
#[track_caller]
fn assert_none_of(shown: &str, other: &Account, user: &str, message: &str) {
    let mut values = other.identifying_values();
    values.push(other.subject.clone());
    for value in values {
        assert!(
            !shown.contains(&value),
            "{user} asked {message:?} and was shown {value:?} of {}",
            other.subject
        );
    }
}

#[track_caller]
fn assert_no_records(page: &Page, records: &DemoRecords) {
    let shown = page.body.replace(',', "");
    for user in ["alice", "bob"] {
        assert_none_of(
            &shown,
            records.account_of(user),
            "a tampered request",
            BALANCE,
        );
        assert!(!shown.contains(demo_user(user).email), "{page}");
    }
}

/// The web app refused the request at step 10 (session and CSRF token), and it went no
/// further: no later step, nothing by Agent B.
async fn assert_refused_at_step_10(env: &TestEnv, page: &Page) {
    let request_id = page.request_id();
    let of_request = env
        .wait_for_step_of(&request_id, steps::CHAT_ACTION_POSTED)
        .await;
    assert!(
        of_request
            .iter()
            .any(|e| e.step == steps::CHAT_ACTION_POSTED && e.outcome == Outcome::Rejected),
        "step 10 rejected: {of_request:#?}"
    );
    assert!(
        of_request
            .iter()
            .all(|e| e.step.number() <= 10 && e.service != Program::AgentB.name()),
        "went past step 10: {of_request:#?}"
    );
}

/// The same opaque id with its last character changed (to another base64url character).
fn flip_last(id: &str) -> String {
    let mut chars: Vec<char> = id.chars().collect();
    let last = chars.last_mut().unwrap();
    *last = if *last == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}
