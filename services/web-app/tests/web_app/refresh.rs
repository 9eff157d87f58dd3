//! The access token is refreshed before it expires, once per session, with rotation.

use http::StatusCode;

use crate::support::{Browser, TestEnv};

/// The IAM's access tokens live 600 s; the web app refreshes with 60 s or less left.
const NEAR_EXPIRY: i64 = 600 - 50;

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_agent_b_is_called() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let before = env.session_of(&browser).await.unwrap();

    // Well within its lifetime: no refresh.
    env.clock.advance(100);
    let page = env.chat(&browser, "What is my balance?").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let same = env.session_of(&browser).await.unwrap();
    assert_eq!(same.tokens.access_token, before.tokens.access_token);

    env.clock.advance(NEAR_EXPIRY - 100);
    let page = env.chat(&browser, "What is my balance?").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let after = env.session_of(&browser).await.unwrap();
    assert_ne!(after.tokens.access_token, before.tokens.access_token);
    assert_ne!(
        after.tokens.refresh_token, before.tokens.refresh_token,
        "the IAM rotated the refresh token"
    );
    assert!(after.tokens.access_expires_at > before.tokens.access_expires_at);
    assert_eq!(after.tokens.scopes, before.tokens.scopes);
    // Agent B saw the new token, bound to the same key.
    let seen = env.agent_b.seen();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].jti, seen[1].jti);
    assert_eq!(seen[0].proof_jkt, seen[1].proof_jkt);
    // The same cookie still names the session.
    assert_eq!(after.id_hash, before.id_hash);
}

#[tokio::test]
async fn concurrent_requests_refresh_once() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let csrf = env.csrf_token(&browser).await;
    env.clock.advance(NEAR_EXPIRY);
    let url = env.url("/chat");
    let form = [
        ("csrf_token", csrf.as_str()),
        ("message", "What is my balance?"),
    ];
    // If both refreshed with the same refresh token, the IAM would see a reuse, revoke the
    // family, and the second request would end the session.
    let (a, b, c) = tokio::join!(
        browser.post(&url, &form),
        browser.post(&url, &form),
        browser.post(&url, &form)
    );
    for page in [a, b, c] {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    }
    let seen = env.agent_b.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|s| s.jti == seen[0].jti),
        "one refreshed token for all three"
    );
    assert!(env.state.refresh_locks.is_empty(), "no lock is left behind");
    // And the session goes on.
    let page = env.chat(&browser, "What is my balance?").await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn a_session_past_its_absolute_lifetime_goes_back_to_the_login() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let csrf = env.csrf_token(&browser).await;
    // Refresh tokens would keep the session going for the IAM's 24 h family lifetime; the
    // session's own 8 h end first.
    env.clock.advance(8 * 3600 + 1);
    let page = browser
        .post(
            &env.url("/chat"),
            &[("csrf_token", &csrf), ("message", "What is my balance?")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/chat");
    let page = browser.get(&env.url("/chat")).await;
    assert!(page.location().starts_with(&env.iam.url("/authorize?")));
    assert!(env.agent_b.seen().is_empty());
}

#[tokio::test]
async fn a_revoked_refresh_token_signs_the_customer_out() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let session = env.session_of(&browser).await.unwrap();
    let csrf = env.csrf_token(&browser).await;
    // The IAM revokes the family (as it does on reuse detection or an admin's revocation).
    let response = reqwest::Client::new()
        .post(env.iam.url("/revoke"))
        .basic_auth("web-app", Some(crate::support::SECRET))
        .form(&[
            (
                "token",
                session.tokens.refresh_token.as_ref().unwrap().expose(),
            ),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    env.clock.advance(NEAR_EXPIRY);
    let page = browser
        .post(
            &env.url("/chat"),
            &[("csrf_token", &csrf), ("message", "What is my balance?")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Your session has ended"),
        "{}",
        page.body
    );
    assert!(browser.cookie("web_session").is_none());
    assert!(env.session_of(&browser).await.is_none());
    assert!(env.agent_b.seen().is_empty());
}
