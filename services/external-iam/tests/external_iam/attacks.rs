//! Hostile input beyond the happy-path refusals: parameter pollution, credential-encoding
//! tricks, reflected markup, races between requests that must not both win, and guesses sent in
//! parallel to outrun the throttle.

use http::{Method, StatusCode};
use serde_json::json;
use tokens::{Algorithm, Jwks, SigningKey};

use crate::support::*;
use external_iam::admin::registration;
use external_iam::store::clients::{self, AuthMethod};

fn code_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ]
}

#[tokio::test]
async fn redirect_uri_spellings_of_the_registered_one_get_an_error_page() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    for trick in [
        "HTTP://localhost:8080/auth/callback",
        "http://localhost:80/auth/callback",
        "http://localhost:08080/auth/callback",
        "http://localhost:8080/auth/%63allback",
        "http://localhost:8080/auth/./callback",
        "http://localhost:8080/x/../auth/callback",
        "http://localhost:8080\\@evil.example/auth/callback",
        "http://localhost:8080/auth/callback\\",
        "http://xn--localhst-j3a:8080/auth/callback",
        "http://localhost.:8080/auth/callback",
        "//evil.example/auth/callback",
        "http://localhost:8080/auth/callback%23x",
        "http://localhost:8080/auth/callback?",
        " http://localhost:8080/auth/callback",
    ] {
        let response = server
            .http
            .get(server.authorize_url(&v.challenge, &[("redirect_uri", trick)]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{trick}");
        assert!(response.headers().get("location").is_none(), "{trick}");
    }
}

#[tokio::test]
async fn parameter_names_and_usernames_are_escaped_in_pages() {
    let server = TestServer::start().await;
    // A repeated parameter's name is echoed on the error page.
    let response = server
        .http
        .get(server.url("/authorize?%3Cscript%3Ex%3C%2Fscript%3E=1&%3Cscript%3Ex%3C%2Fscript%3E=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("is repeated"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    // The username is echoed in an attribute after a failed login.
    let browser = server.browser();
    let v = Verifier::new();
    let login = browser
        .start(&server.authorize_url(&v.challenge, &[]))
        .await;
    let attack = "\"><img src=x onerror=alert(1)>";
    let response = browser.submit_password(&login, attack, "wrong").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(!html.contains("\"><img"), "{html}");
    assert!(!html.contains("<img"), "{html}");
}

/// RFC 6749 §3.1: a parameter must not appear twice, and an empty first copy is still a copy. A
/// proxy that reads the first value and this server the second would otherwise disagree.
#[tokio::test]
async fn a_repeated_parameter_with_an_empty_copy_is_refused() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let mut form = vec![("redirect_uri", "")];
    form.extend(code_form(&code, &v.verifier));
    let response = server.token_request(&form, None).await;
    let why = assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert!(why.contains("redirect_uri"), "{why}");
    // At /authorize too: an error page, never a redirect.
    let url = format!("{}&redirect_uri=", server.authorize_url(&v.challenge, &[]));
    let response = server.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    // Nothing was consumed.
    server.redeem(&code, &v, &server.dpop_key()).await;
}

/// RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding. A raw `&` is
/// not part of that encoding: decoding must not silently cut the value there.
#[tokio::test]
async fn basic_credentials_are_decoded_exactly() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let form = code_form(&code, &v.verifier);
    let padded_secret = format!("{SECRET}&x=1");
    let padded_id = format!("{WEB_APP}&x=1");
    for (id, secret) in [
        (WEB_APP, padded_secret.as_str()),
        (padded_id.as_str(), SECRET),
        (WEB_APP, &SECRET[..SECRET.len() - 1]),
    ] {
        let response = server
            .token_request_as(Some((id, secret)), &form, None)
            .await;
        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
    // The percent-encoded spelling of the same credentials is the same client.
    let encoded_id: String = WEB_APP.bytes().map(|b| format!("%{b:02X}")).collect();
    let response = server
        .token_request_as(Some((&encoded_id, SECRET)), &form, Some(&server.dpop_key()))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn client_assertions_with_bad_claims_are_refused() {
    let server = TestServer::start().await;
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let jwks = Jwks::new(vec![key.public_jwk().clone()])
        .to_json()
        .to_string();
    let client = registration(
        "jwt-app".into(),
        AuthMethod::PrivateKeyJwt,
        None,
        Some(&jwks),
        vec![REDIRECT.into()],
        vec![],
        vec!["openid".into(), "agent:invoke".into()],
        vec![RESOURCE.into()],
    )
    .unwrap();
    clients::upsert(server.state.pool(), &client, Some(jwks), START)
        .await
        .unwrap();
    let now = START;
    let token_url = server.url("/token");
    let signed = |claims: serde_json::Value| tokens::jws::sign(&key, "JWT", &claims, None).unwrap();
    let unsigned = {
        let header = tokens::b64::encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = tokens::b64::encode(
            json!({"iss": "jwt-app", "sub": "jwt-app", "aud": token_url,
                   "iat": now, "exp": now + 60, "jti": "none-1"})
            .to_string(),
        );
        format!("{header}.{payload}.")
    };
    for (what, assertion) in [
        ("alg none", unsigned),
        (
            "exp far in the future",
            signed(json!({"iss": "jwt-app", "sub": "jwt-app", "aud": token_url,
                          "iat": now, "exp": now + 86_400, "jti": "far-1"})),
        ),
        (
            "another server's audience",
            signed(
                json!({"iss": "jwt-app", "sub": "jwt-app", "aud": "https://other.example/token",
                          "iat": now, "exp": now + 60, "jti": "aud-1"}),
            ),
        ),
        (
            "sub differs from iss",
            signed(json!({"iss": "jwt-app", "sub": "web-app", "aud": token_url,
                          "iat": now, "exp": now + 60, "jti": "sub-1"})),
        ),
        (
            "no jti",
            signed(json!({"iss": "jwt-app", "sub": "jwt-app", "aud": token_url,
                          "iat": now, "exp": now + 60})),
        ),
        (
            "expired",
            signed(json!({"iss": "jwt-app", "sub": "jwt-app", "aud": token_url,
                          "iat": now - 600, "exp": now - 300, "jti": "old-1"})),
        ),
    ] {
        let response = server
            .http
            .post(server.url("/introspect"))
            .form(&[
                ("token", "x"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "{what}");
    }
}

/// Two refreshes racing with the same token: at most one gets tokens, and the loser is treated
/// as reuse, which revokes the winner's tokens too.
#[tokio::test]
async fn concurrent_refreshes_with_one_token_cannot_both_succeed() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let key = server.dpop_key();
    let first = server.redeem(&code, &v, &key).await;
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let proof = key
            .proof(&Method::POST, &server.token_htu(), None, None)
            .unwrap();
        let request = server
            .http
            .post(server.url("/token"))
            .basic_auth(WEB_APP, Some(SECRET))
            .header("dpop", proof)
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
        tasks.push(tokio::spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == StatusCode::OK {
            winners.push(body);
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(body["error"], "invalid_grant", "{body}");
        }
    }
    assert!(winners.len() <= 1, "{} refreshes succeeded", winners.len());
    // Whatever a winner got was revoked by the reuse the others made.
    for body in winners {
        let response = server
            .http
            .post(server.url("/introspect"))
            .basic_auth(WEB_APP, Some(SECRET))
            .form(&[("token", body["refresh_token"].as_str().unwrap())])
            .send()
            .await
            .unwrap();
        let info: serde_json::Value = response.json().await.unwrap();
        assert_eq!(info["active"], false);
    }
    assert!(server.audit_has("refresh_reuse_detected").await);
}

/// Guesses fired together must not all be checked: the throttle's count has to be taken before
/// the password is, or a burst of N parallel guesses gets N checks.
#[tokio::test]
async fn parallel_password_guesses_cannot_outrun_the_throttle() {
    let server = TestServer::start().await;
    let policy = server.state.config.throttle.clone();
    let browser = server.browser();
    let v = Verifier::new();
    let login = browser
        .start(&server.authorize_url(&v.challenge, &[]))
        .await;
    let (_, form) = browser.form(&login).await;
    let cookie = browser.cookie().unwrap();
    let mut tasks = Vec::new();
    for guess in 0..12 {
        let request = server
            .http
            .post(server.url("/login"))
            .header("cookie", cookie.clone())
            .form(&[
                ("csrf_token", form.csrf_token.clone()),
                ("request", form.request.clone()),
                ("username", "alice".to_owned()),
                ("password", format!("guess-number-{guess}")),
            ]);
        tasks.push(tokio::spawn(async move {
            request.send().await.unwrap().status()
        }));
    }
    let mut checked: i64 = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        checked <= policy.account_delay_after,
        "{checked} parallel guesses were checked; the policy allows {} before the first delay",
        policy.account_delay_after
    );
}

/// The same TOTP code sent from two sessions at once: one login, one replay.
#[tokio::test]
async fn one_totp_code_sent_twice_at_once_logs_in_once() {
    let server = TestServer::start().await;
    let mut pages = Vec::new();
    for _ in 0..2 {
        let browser = server.browser();
        let v = Verifier::new();
        let login = browser
            .start(&server.authorize_url(&v.challenge, &[]))
            .await;
        let response = browser
            .submit_password(&login, "alice", password_of("alice"))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let totp_url = location(&response);
        let (_, form) = browser.form(&totp_url).await;
        pages.push((browser.cookie().unwrap(), form));
    }
    server.clock.advance(30);
    let code = totp_of("alice").code_at(tokens::Clock::now(&*server.clock));
    let mut tasks = Vec::new();
    for (cookie, form) in pages {
        let request = server
            .http
            .post(server.url("/login/totp"))
            .header("cookie", cookie)
            .form(&[
                ("csrf_token", form.csrf_token),
                ("request", form.request),
                ("code", code.clone()),
            ]);
        tasks.push(tokio::spawn(async move {
            request.send().await.unwrap().status()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::UNAUTHORIZED],
        "{statuses:?}"
    );
}

#[tokio::test]
async fn logout_never_redirects_to_an_unregistered_uri() {
    let server = TestServer::start().await;
    for query in [
        "client_id=web-app&post_logout_redirect_uri=https://evil.example/",
        "client_id=web-app&post_logout_redirect_uri=http://localhost:8080/%2F%2Fevil.example",
        "client_id=web-app&post_logout_redirect_uri=HTTP://localhost:8080/",
        "client_id=nobody&post_logout_redirect_uri=http://localhost:8080/",
        "post_logout_redirect_uri=http://localhost:8080/",
    ] {
        let response = server
            .http
            .get(server.url(&format!("/logout?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(response.headers().get("location").is_none(), "{query}");
    }
}
