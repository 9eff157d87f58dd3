//! Step 10 (CSRF) and step 11 (`chatbot:access`): refusals that never reach Agent B.

use http::StatusCode;
use wire::Outcome;

use crate::support::{Browser, STEPS, TestEnv};

#[tokio::test]
async fn carol_without_chatbot_access_gets_403_not_a_redirect_loop() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "carol").await;
    let session = env.session_of(&browser).await.unwrap();
    assert_eq!(session.tokens.scopes, ["openid", "profile", "agent:invoke"]);

    let page = browser.get(&env.url("/chat")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.header("location").is_none(), "no redirect");
    assert!(page.body.contains("not entitled"));
    assert!(page.body.contains("chatbot:access"));
    let events = STEPS.for_request(&page.request_id());
    let step11 = events.iter().find(|e| e.step.number() == 11).unwrap();
    assert_eq!(step11.outcome, Outcome::Rejected);

    // Posting anyway (with a valid CSRF token from the header's sign-out form) is refused too.
    let csrf = crate::support::hidden(&page.body, "csrf_token");
    let page = browser
        .post(
            &env.url("/chat"),
            &[("csrf_token", &csrf), ("message", "What is my balance?")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let summary = STEPS.summary(&page.request_id());
    assert_eq!(
        summary,
        [
            (10, "web-app".to_owned(), "ok"),
            (11, "web-app".to_owned(), "rejected")
        ]
    );
    assert!(env.agent_b.seen().is_empty(), "Agent B is never called");
}

#[tokio::test]
async fn a_chat_post_without_the_sessions_csrf_token_is_refused() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    for form in [
        vec![("message", "What is my balance?")],
        vec![
            ("csrf_token", "not-the-token"),
            ("message", "What is my balance?"),
        ],
    ] {
        let page = browser.post(&env.url("/chat"), &form).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{form:?}");
        assert!(page.body.contains("This form has expired"));
        let events = STEPS.for_request(&page.request_id());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].step.number(), 10);
        assert_eq!(events[0].outcome, Outcome::Rejected);
        assert_eq!(
            events[0].detail.as_deref(),
            Some("CSRF token missing or not this session's")
        );
    }
    // Another session's token is not this session's.
    let other = Browser::new();
    env.login(&other, "bob").await;
    let bobs = env.csrf_token(&other).await;
    let page = browser
        .post(
            &env.url("/chat"),
            &[("csrf_token", &bobs), ("message", "What is my balance?")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(env.agent_b.seen().is_empty());
}

#[tokio::test]
async fn a_chat_post_without_a_session_goes_to_the_login() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    let page = browser
        .post(
            &env.url("/chat"),
            &[("csrf_token", "x"), ("message", "What is my balance?")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/chat");
    let page = browser.get(&env.url("/chat")).await;
    assert!(page.location().starts_with(&env.iam.url("/authorize?")));
}

#[tokio::test]
async fn an_empty_or_overlong_message_is_sent_back_with_the_reason() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let page = env.chat(&browser, "   ").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Please type a message."));
    assert!(page.body.contains("aria-invalid=\"true\""));
    let long = "a".repeat(501);
    let page = env.chat(&browser, &long).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("Please keep your message to 500 characters.")
    );
    // Over the 8 KiB form limit: refused as too large before the form is even read.
    let page = env.chat(&browser, &"a".repeat(9_000)).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        page.body.contains("The message is too long"),
        "{}",
        page.body
    );
    assert!(env.agent_b.seen().is_empty());
}
