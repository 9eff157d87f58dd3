//! The login forms: generic answers for wrong credentials, TOTP replay protection, throttling
//! and lockout, CSRF, and malformed or oversized forms.

use http::StatusCode;

use crate::support::*;

const GENERIC: &str = "The username or password is incorrect.";

async fn login_page(server: &TestServer) -> (Browser, String) {
    let browser = server.browser();
    let v = Verifier::new();
    let login = browser
        .start(&server.authorize_url(&v.challenge, &[]))
        .await;
    (browser, login)
}

#[tokio::test]
async fn the_forms_let_password_managers_and_code_autofill_work() {
    let server = TestServer::start().await;
    let (browser, login) = login_page(&server).await;
    let (html, _) = browser.form(&login).await;
    assert!(html.contains(r#"autocomplete="username""#));
    assert!(html.contains(r#"autocomplete="current-password""#));
    assert!(html.contains(r#"<label for="username">"#));
    let response = browser
        .submit_password(&login, "alice", password_of("alice"))
        .await;
    let (html, _) = browser.form(&location(&response)).await;
    assert!(html.contains(r#"autocomplete="one-time-code""#));
    assert!(html.contains(r#"inputmode="numeric""#));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let server = TestServer::start().await;
    let (browser, login) = login_page(&server).await;
    let wrong = browser
        .submit_password(&login, "alice", "not-her-password")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown = browser
        .submit_password(&login, "mallory", "whatever-password")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains(GENERIC) && unknown.contains(GENERIC));
    let events = server.audit().await;
    assert!(events.contains(&("login_failed".into(), Some("wrong password".into()))));
    assert!(events.contains(&("login_failed".into(), Some("unknown user".into()))));
}

#[tokio::test]
async fn a_password_typed_as_the_username_is_not_recorded() {
    let server = TestServer::start().await;
    let (browser, login) = login_page(&server).await;
    let typed = "alice-dev-password";
    let response = browser.submit_password(&login, typed, "anything").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let rows = external_iam::store::audit::list(server.state.pool())
        .await
        .unwrap();
    let names: Vec<_> = rows
        .iter()
        .filter_map(|row| row.username.as_deref())
        .collect();
    assert!(
        names.iter().any(|name| name.starts_with("unknown:")),
        "{names:?}"
    );
    assert!(!names.iter().any(|name| name.contains(typed)), "{names:?}");
    // Nor is it the throttle counter's key: the same fingerprint is.
    let keys = external_iam::store::throttle::keys(server.state.pool())
        .await
        .unwrap();
    assert!(!keys.iter().any(|key| key.contains(typed)), "{keys:?}");
    assert!(
        keys.iter().any(|key| key.starts_with("user:unknown:")),
        "{keys:?}"
    );
    // A known account's name is recorded as such.
    browser
        .submit_password(&login, "alice", "not-her-password")
        .await;
    let rows = external_iam::store::audit::list(server.state.pool())
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|row| row.username.as_deref() == Some("alice"))
    );
}

#[tokio::test]
async fn wrong_and_replayed_totp_codes_are_refused() {
    let server = TestServer::start().await;
    // A first login uses the current code.
    let v = Verifier::new();
    server
        .browser()
        .login(&server.authorize_url(&v.challenge, &[]), "alice")
        .await;
    let used = totp_of("alice").code_at(tokens::Clock::now(&*server.clock));

    let (browser, login) = login_page(&server).await;
    let response = browser
        .submit_password(&login, "alice", password_of("alice"))
        .await;
    let totp_url = location(&response);
    let wrong = browser.submit_totp(&totp_url, "000000").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("The code is incorrect.")
    );
    let replay = browser.submit_totp(&totp_url, &used).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert!(replay.text().await.unwrap().contains("already used"));
    let events = server.audit().await;
    assert!(events.contains(&("mfa_failed".into(), Some("wrong TOTP code".into()))));
    assert!(events.contains(&("mfa_failed".into(), Some("TOTP code replayed".into()))));
    // The next time step's code works.
    server.clock.advance(30);
    let fresh = totp_of("alice").code_at(tokens::Clock::now(&*server.clock));
    assert_eq!(
        browser.submit_totp(&totp_url, &fresh).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn failures_slow_down_then_lock_the_account() {
    let server = TestServer::start().await;
    let (browser, login) = login_page(&server).await;
    // Three failures are free; the fourth attempt must wait one second.
    for _ in 0..3 {
        let response = browser
            .submit_password(&login, "bob", "wrong-password-x")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let early = browser
        .submit_password(&login, "bob", password_of("bob"))
        .await;
    assert_eq!(early.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(early.headers()["retry-after"], "1");
    assert!(early.text().await.unwrap().contains("Wait 1 second"));
    server.clock.advance(1);
    assert_eq!(
        browser
            .submit_password(&login, "bob", "wrong-password-x")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    server.clock.advance(2);
    // The fifth failure locks the account for 15 minutes, even for the right password.
    assert_eq!(
        browser
            .submit_password(&login, "bob", "wrong-password-x")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(server.audit_has("locked_out").await);
    server.clock.advance(60);
    let locked = browser
        .submit_password(&login, "bob", password_of("bob"))
        .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("locked for 14 minutes")
    );
    // An unknown name locks exactly the same way: the lock tells nothing about existence.
    for _ in 0..3 {
        browser
            .submit_password(&login, "nobody", "wrong-password-x")
            .await;
    }
    server.clock.advance(1);
    browser
        .submit_password(&login, "nobody", "wrong-password-x")
        .await;
    server.clock.advance(2);
    browser
        .submit_password(&login, "nobody", "wrong-password-x")
        .await;
    server.clock.advance(60);
    let ghost = browser
        .submit_password(&login, "nobody", "whatever-password")
        .await;
    assert_eq!(ghost.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        ghost
            .text()
            .await
            .unwrap()
            .contains("locked for 14 minutes")
    );
    // After the lock, bob logs in again (from a new sign-in request: the old one expired too).
    server.clock.advance(15 * 60);
    let (browser, login) = login_page(&server).await;
    assert_eq!(
        browser
            .submit_password(&login, "bob", password_of("bob"))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let server = TestServer::start().await;
    let (browser, login) = login_page(&server).await;
    let (_, form) = browser.form(&login).await;
    for csrf in ["", "forged-token"] {
        let response = browser
            .post(
                "/login",
                &[
                    ("csrf_token", csrf),
                    ("request", &form.request),
                    ("username", "alice"),
                    ("password", password_of("alice")),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.text().await.unwrap().contains("Reload the page"));
    }
    // Nothing moved on: the TOTP step is still out of reach.
    let response = browser
        .get(&format!("/login/totp?request={}", form.request))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login?request="));
}

#[tokio::test]
async fn a_login_form_needs_its_own_browser_session() {
    let server = TestServer::start().await;
    let (_, login) = login_page(&server).await;
    let stranger = server.browser();
    let response = stranger.get(&login).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn oversized_and_malformed_forms_are_refused() {
    let server = TestServer::start().await;
    let (browser, login) = login_page(&server).await;
    let (_, form) = browser.form(&login).await;
    let huge = "x".repeat(20 * 1024);
    let response = browser
        .post(
            "/login",
            &[
                ("csrf_token", &form.csrf_token),
                ("request", &form.request),
                ("username", "alice"),
                ("password", &huge),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.text().await.unwrap().contains("16384-byte limit"));
    let response = browser
        .post(
            "/login",
            &[
                ("csrf_token", &form.csrf_token),
                ("request", &form.request),
                ("username", "alice"),
                ("username", "bob"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("repeated"));
    let response = server
        .http
        .post(server.url("/login"))
        .header("cookie", browser.cookie().unwrap())
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn throttle_counters_are_swept_once_they_no_longer_count() {
    use external_iam::store::throttle;
    let server = TestServer::start().await;
    let pool = server.state.pool();
    let sweeper = &server.state.throttle;
    let (browser, login) = login_page(&server).await;
    browser.submit_password(&login, "mallory", "guess").await;
    let now = tokens::Clock::now(&*server.clock);
    // Failures older than the lock duration no longer count.
    let window = external_iam::config::secs(server.state.config.throttle.lock_duration);
    // Within the window the counters count, and stay.
    assert_eq!(sweeper.sweep(pool, now).await.unwrap(), 0);
    let keys = throttle::keys(pool).await.unwrap();
    assert_eq!(keys.len(), 2, "the name and the IP: {keys:?}");
    let ip = keys.iter().find(|key| key.starts_with("ip:")).unwrap();
    // A locked counter stays until its lock has run out, however old its failures.
    assert!(throttle::lock(pool, ip, now + 2 * window).await.unwrap());
    assert_eq!(sweeper.sweep(pool, now + window + 1).await.unwrap(), 1);
    assert_eq!(
        throttle::keys(pool).await.unwrap(),
        std::slice::from_ref(ip)
    );
    assert_eq!(sweeper.sweep(pool, now + 2 * window).await.unwrap(), 1);
    assert!(throttle::keys(pool).await.unwrap().is_empty());
}
