//! `/authorize` refusals: an error page (no redirect) when the client or redirect URI cannot be
//! trusted, otherwise a redirect with the exact error, `state` and `iss`. None creates a session
//! or a pending request.

use http::StatusCode;

use crate::support::*;

async fn assert_page(server: &TestServer, url: &str, expected: &str) {
    let browser = server.browser();
    let response = browser.get(url).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
    assert!(
        response.headers().get("location").is_none(),
        "never a redirect: {url}"
    );
    assert!(
        browser.cookie().is_none(),
        "no session for a refused request"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(expected), "{html}");
}

#[tokio::test]
async fn unknown_or_missing_client_gets_an_error_page() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    assert_page(
        &server,
        &server.authorize_url(&v.challenge, &[("client_id", "nobody")]),
        "not registered",
    )
    .await;
    assert_page(
        &server,
        &server.authorize_url(&v.challenge, &[("client_id", "")]),
        "no client_id",
    )
    .await;
}

#[tokio::test]
async fn unregistered_redirect_uris_get_an_error_page_never_a_redirect() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    for trick in [
        "http://localhost:8080/auth/callback/",
        "http://localhost:8080/auth/callbackx",
        "http://localhost:8080/auth/",
        "http://localhost:8080/auth/Callback",
        "http://LOCALHOST:8080/auth/callback",
        "http://localhost:8080/auth/callback?next=https://evil.example",
        "http://localhost:8080/auth/callback#frag",
        "http://user@localhost:8080/auth/callback",
        "http://localhost:8080@evil.example/auth/callback",
        "http://localhost:8081/auth/callback",
        "https://localhost:8080/auth/callback",
        "http://localhost:8080/auth/%63allback",
        "http://localhost:8080/auth/x/../callback",
    ] {
        assert_page(
            &server,
            &server.authorize_url(&v.challenge, &[("redirect_uri", trick)]),
            "redirect_uri",
        )
        .await;
    }
    assert_page(
        &server,
        &server.authorize_url(&v.challenge, &[("redirect_uri", "")]),
        "no redirect_uri",
    )
    .await;
}

#[tokio::test]
async fn repeated_parameters_get_an_error_page() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let url = format!(
        "{}&client_id=web-app",
        server.authorize_url(&v.challenge, &[])
    );
    assert_page(&server, &url, "repeated").await;
}

#[tokio::test]
async fn bad_requests_from_a_known_client_are_redirected_with_the_exact_error() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let cases: [(&[(&str, &str)], &str); 12] = [
        (&[("code_challenge", "")], "invalid_request"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("code_challenge_method", "")], "invalid_request"),
        (&[("code_challenge", "too-short")], "invalid_request"),
        (&[("response_type", "token")], "unsupported_response_type"),
        (
            &[("response_type", "code id_token")],
            "unsupported_response_type",
        ),
        (&[("response_type", "")], "invalid_request"),
        (&[("scope", "openid admin")], "invalid_scope"),
        (&[("scope", "")], "invalid_request"),
        (&[("resource", "https://unknown.example")], "invalid_target"),
        (&[("nonce", "")], "invalid_request"),
        (&[("request", "eyJ.x.y")], "request_not_supported"),
    ];
    for (extra, error) in cases {
        let browser = server.browser();
        let response = browser
            .get(&server.authorize_url(&v.challenge, extra))
            .await;
        assert_error_redirect(&response, &server.issuer, error);
        assert!(
            browser.cookie().is_none(),
            "{extra:?} must not start a session"
        );
    }
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let response = server
        .browser()
        .get(&server.authorize_url(&v.challenge, &[("prompt", "none")]))
        .await;
    assert_error_redirect(&response, &server.issuer, "login_required");
}
