//! The login (design steps 1–9) as the browser sees it, and the callback's refusals.

use http::StatusCode;
use wire::Outcome;

use crate::support::env::state_of;
use crate::support::iam::subject_of;
use crate::support::{Browser, STEPS, TestEnv, query_param};

#[tokio::test]
async fn the_home_page_is_public_and_the_chat_starts_a_login() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    let home = browser.get(&env.url("/")).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Sign in to chat"));
    assert_eq!(home.header("cache-control"), Some("no-store"));
    assert!(home.header("x-request-id").is_some());
    let csp = home.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );

    // Steps 1–2: no session, so the chat sends the browser to the IAM.
    let (authorize, request_id) = env.start_login(&browser).await;
    for (name, expected) in [
        ("response_type", "code"),
        ("client_id", "web-app"),
        ("code_challenge_method", "S256"),
        ("resource", "https://agent-b.namespace-b.demo.test"),
        ("redirect_uri", &env.url("/auth/callback")),
    ] {
        assert_eq!(
            query_param(&authorize, name).as_deref(),
            Some(expected),
            "{name}"
        );
    }
    let scopes = query_param(&authorize, "scope").unwrap();
    let scopes: Vec<&str> = scopes.split(' ').collect();
    for scope in ["openid", "profile", "chatbot:access", "agent:invoke"] {
        assert!(scopes.contains(&scope), "{scope} in {scopes:?}");
    }
    for name in ["state", "nonce", "code_challenge", "dpop_jkt"] {
        let value = query_param(&authorize, name).unwrap();
        assert!(value.len() >= 43, "{name} is long and random: {value}");
    }
    // Only the pre-login cookie, opaque.
    let cookies = browser.cookies();
    assert_eq!(cookies.keys().collect::<Vec<_>>(), ["web_login"]);
    assert_eq!(cookies["web_login"].len(), 43);
    assert_eq!(
        STEPS.summary(&request_id),
        [
            (1, "web-app".to_owned(), "ok"),
            (2, "web-app".to_owned(), "ok")
        ]
    );
}

#[tokio::test]
async fn alice_logs_in_and_the_browser_holds_only_an_opaque_cookie() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    let (authorize, request_id) = env.start_login(&browser).await;
    let pre_login = browser.cookie("web_login").unwrap();
    let callback = env.sign_in_at_iam(&browser, &authorize, "alice").await;
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(env.iam.issuer.as_str())
    );
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/chat");
    let set = page.set_cookies().join("\n");
    assert!(set.contains("web_session="), "{set}");
    assert!(set.contains("HttpOnly; SameSite=Lax"), "{set}");
    assert!(
        set.contains("web_login=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        "{set}"
    );
    // Plain http here, so no `Secure` (a browser would refuse it); see the cookie unit tests.
    assert!(!set.contains("Secure"), "{set}");

    // The browser now holds one opaque cookie: 256 random bits, not the pre-login one.
    let cookies = browser.cookies();
    let session_cookie = cookies.get("web_session").unwrap().clone();
    assert_eq!(session_cookie.len(), 43);
    assert!(!session_cookie.contains('.'), "not a JWT");
    assert_ne!(session_cookie, pre_login);
    assert!(!cookies.contains_key("web_login"));

    let chat = browser.get(&env.url("/chat")).await;
    assert_eq!(chat.status, StatusCode::OK);
    assert_eq!(chat.header("cache-control"), Some("no-store"));
    assert!(
        chat.body.contains("Alice Example"),
        "the customer is greeted"
    );
    // The login's timeline: steps 1–9, the IAM's steps marked as not reported.
    for row in [
        "1. Browser requests a protected page",
        "2. Redirect to /authorize with PKCE, state and nonce",
        "3. Customer signs in: password, then TOTP",
        "6. Callback received; state checked",
        "8. Tokens received; ID token validated",
        "9. Server-side session established",
    ] {
        assert!(chat.body.contains(row), "{row}");
    }

    // The session holds the tokens, DPoP-bound, with the granted scopes...
    let session = env.session_of(&browser).await.unwrap();
    assert_eq!(session.subject, subject_of("alice"));
    assert_eq!(
        session.tokens.scopes,
        ["openid", "profile", "chatbot:access", "agent:invoke"]
    );
    assert!(session.tokens.refresh_token.is_some());
    let key = session.dpop_key.load(env.clock.clone()).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &tokens::b64::decode(
            session
                .tokens
                .access_token
                .expose()
                .split('.')
                .nth(1)
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["cnf"]["jkt"],
        key.jkt(),
        "bound to the session's key"
    );

    // ...and none of them ever reached the browser: not in a cookie, a body, a URL.
    let seen = browser.everything_seen();
    let secrets = [
        session.tokens.access_token.expose(),
        session.tokens.refresh_token.as_ref().unwrap().expose(),
        session.tokens.id_token.expose(),
    ];
    for secret in secrets {
        assert!(!seen.contains(secret), "a secret reached the browser");
    }

    // Every step of the web app's side is logged under the login's request id, and the IAM
    // logged step 7 under it too (the token request carried it).
    let steps = STEPS.summary(&request_id);
    for expected in [
        (1, "web-app"),
        (2, "web-app"),
        (6, "web-app"),
        (7, "external-iam"),
        (8, "web-app"),
        (9, "web-app"),
    ] {
        assert!(
            steps.contains(&(expected.0, expected.1.to_owned(), "ok")),
            "{expected:?} in {steps:?}"
        );
    }
}

#[tokio::test]
async fn a_new_login_replaces_the_session_id() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let first = browser.cookie("web_session").unwrap();

    // "Sign in" again (switching accounts): the IAM's single sign-on answers at once.
    let page = browser.get(&env.url("/auth/login")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let callback = env
        .sign_in_at_iam(&browser, &page.location(), "alice")
        .await;
    let page = browser.get(&callback).await;
    assert_eq!(page.location(), "/chat");
    let second = browser.cookie("web_session").unwrap();
    assert_ne!(first, second, "the session id changes at login");

    // The old id is dead: a browser still holding it is sent to log in.
    let stale = Browser::new();
    stale.set_cookie("web_session", Some(&first));
    let page = stale.get(&env.url("/chat")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with(&env.iam.url("/authorize?")));
}

/// Runs steps 1–5 and returns the callback URL, for the tests that tamper with it.
async fn callback_url(env: &TestEnv, browser: &Browser) -> (String, String) {
    let (authorize, request_id) = env.start_login(browser).await;
    let callback = env.sign_in_at_iam(browser, &authorize, "alice").await;
    assert_eq!(query_param(&callback, "state"), Some(state_of(&authorize)));
    (callback, request_id)
}

fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = parsed.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    parsed.to_string()
}

#[tokio::test]
async fn an_implausibly_long_code_is_refused_without_asking_the_iam() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    let (callback, request_id) = callback_url(&env, &browser).await;
    let tampered = with_param(&callback, "code", Some(&"c".repeat(60_000)));
    let page = browser.get(&tampered).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(browser.cookie("web_session").is_none());
    let events = STEPS.for_request(&request_id);
    let step6 = events.iter().find(|e| e.step.number() == 6).unwrap();
    assert_eq!(step6.outcome, Outcome::Rejected);
    assert_eq!(
        step6.detail.as_deref(),
        Some("the code is too long to be one")
    );
    assert!(
        !events.iter().any(|e| e.step.number() == 7),
        "nothing was sent to the token endpoint"
    );
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    let (callback, request_id) = callback_url(&env, &browser).await;
    let tampered = with_param(&callback, "state", Some("attacker-state"));
    let page = browser.get(&tampered).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Sign-in could not be completed"));
    assert!(
        page.body
            .contains("did not come from the sign-in this page started")
    );
    assert!(browser.cookie("web_session").is_none());
    assert!(
        browser.cookie("web_login").is_none(),
        "the pre-login cookie is cleared"
    );
    let event = STEPS
        .for_request(&request_id)
        .into_iter()
        .find(|e| e.step.number() == 6)
        .unwrap();
    assert_eq!(event.outcome, Outcome::Rejected);
    assert_eq!(
        event.detail.as_deref(),
        Some("state does not match the login's")
    );
    // The login was used up by the attempt: the genuine response is refused too.
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(browser.cookie("web_session").is_none());
}

#[tokio::test]
async fn a_callback_without_iss_or_with_another_iss_is_refused() {
    let env = TestEnv::start().await;
    for (iss, reason) in [
        (None, "iss is missing (RFC 9207)"),
        (
            Some("https://attacker.example"),
            "iss names another issuer (RFC 9207)",
        ),
        // The issuer with a trailing slash is another issuer: compared byte for byte.
        (Some("__ISSUER__/"), "iss names another issuer (RFC 9207)"),
    ] {
        let browser = Browser::new();
        let (callback, request_id) = callback_url(&env, &browser).await;
        let iss = iss.map(|i| i.replace("__ISSUER__", &env.iam.issuer));
        let tampered = with_param(&callback, "iss", iss.as_deref());
        let page = browser.get(&tampered).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{iss:?}");
        assert!(browser.cookie("web_session").is_none());
        let event = STEPS
            .for_request(&request_id)
            .into_iter()
            .find(|e| e.step.number() == 6)
            .unwrap();
        assert_eq!(event.outcome, Outcome::Rejected);
        assert_eq!(event.detail.as_deref(), Some(reason), "{iss:?}");
        // Nothing was redeemed: no step 7 at the IAM, no step 8 here.
        assert!(
            !STEPS
                .for_request(&request_id)
                .iter()
                .any(|e| matches!(e.step.number(), 7 | 8))
        );
    }
}

#[tokio::test]
async fn a_callback_without_a_login_in_progress_is_refused() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    let (callback, _) = callback_url(&env, &browser).await;
    // Another browser (no pre-login cookie) delivers the code: login CSRF.
    let other = Browser::new();
    let page = other.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("expired or was already used"));
    assert!(other.cookie("web_session").is_none());
    // The rightful browser can still finish its login.
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/chat");
}

#[tokio::test]
async fn a_login_left_longer_than_the_timeout_must_start_again() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    let (callback, _) = callback_url(&env, &browser).await;
    env.clock.advance(11 * 60);
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(browser.cookie("web_session").is_none());
}

#[tokio::test]
async fn the_login_works_when_the_iam_requires_dpop_nonces() {
    let env = TestEnv::start_with(crate::support::Options {
        iam_nonces: true,
        ..Default::default()
    })
    .await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let page = browser.get(&env.url("/chat")).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_is_unavailable_while_the_iam_is_down() {
    let env = TestEnv::start_with(crate::support::Options {
        iam_down: true,
        ..Default::default()
    })
    .await;
    let browser = Browser::new();
    let home = browser.get(&env.url("/")).await;
    assert_eq!(
        home.status,
        StatusCode::OK,
        "public pages do not need the IAM"
    );
    let page = browser.get(&env.url("/chat")).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("Sign-in is not available right now"));
    let health = browser.get(&env.url("/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
}
