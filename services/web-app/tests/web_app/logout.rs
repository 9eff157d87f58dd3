//! Logout: locally and at the IAM.

use http::StatusCode;

use crate::support::{Browser, TestEnv, hidden, query_param};

#[tokio::test]
async fn logout_ends_the_session_here_and_at_the_iam() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let session = env.session_of(&browser).await.unwrap();
    let old_cookie = browser.cookie("web_session").unwrap();
    let chat = browser.get(&env.url("/chat")).await;
    assert_eq!(chat.header("cache-control"), Some("no-store"));
    let csrf = hidden(&chat.body, "csrf_token");

    // A logout without the CSRF token is refused and changes nothing.
    let page = browser.post(&env.url("/auth/logout"), &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(env.session_of(&browser).await.is_some());

    let page = browser
        .post(&env.url("/auth/logout"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // Off to the IAM's end-session endpoint with the ID token as hint and the registered
    // post-logout URI.
    let end_session = page.location();
    assert!(
        end_session.starts_with(&env.iam.url("/logout?")),
        "{end_session}"
    );
    assert_eq!(
        query_param(&end_session, "id_token_hint").as_deref(),
        Some(session.tokens.id_token.expose())
    );
    assert_eq!(
        query_param(&end_session, "post_logout_redirect_uri"),
        Some(env.url("/"))
    );
    assert!(
        browser.cookie("web_session").is_none(),
        "the cookie is cleared"
    );

    // The session is gone: the old cookie (a back button, a copy) leads to a new login.
    let stale = Browser::new();
    stale.set_cookie("web_session", Some(&old_cookie));
    let page = stale.get(&env.url("/chat")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with(&env.iam.url("/authorize?")));

    // The web app revoked the refresh token at the IAM (before the browser even reaches the
    // IAM's end-session endpoint): presented with its key's proof, it is refused.
    let key = session.dpop_key.load(env.clock.clone()).unwrap();
    let token_url = env.iam.url("/token");
    let proof = key
        .proof(
            &http::Method::POST,
            &tokens::Htu::parse(&token_url).unwrap(),
            None,
            None,
        )
        .unwrap();
    let response = reqwest::Client::new()
        .post(&token_url)
        .basic_auth("web-app", Some(crate::support::SECRET))
        .header("DPoP", proof)
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                session.tokens.refresh_token.as_ref().unwrap().expose(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");

    // The IAM accepts the hint, ends its session and comes back to the home page.
    let page = browser.get(&end_session).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), env.url("/"));
    let home = browser.get(&page.location()).await;
    assert!(home.body.contains("Sign in to chat"));

    // Single sign-on ended too: the next login asks for the password again.
    let (authorize, _) = env.start_login(&browser).await;
    let page = browser.get(&authorize).await;
    assert!(
        page.location().starts_with("/login?"),
        "{}",
        page.location()
    );
}
