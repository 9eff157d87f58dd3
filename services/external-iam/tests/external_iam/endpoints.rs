//! Discovery, JWKS and key rotation, UserInfo, introspection, revocation, logout, the step
//! events and the schema.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::Value;
use wire::Outcome;

use crate::support::*;

async fn json(server: &TestServer, path: &str) -> Value {
    server
        .http
        .get(server.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&tokens::b64::decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn discovery_advertises_exactly_what_is_implemented() {
    let server = TestServer::start().await;
    let oidc = json(&server, "/.well-known/openid-configuration").await;
    let oauth = json(&server, "/.well-known/oauth-authorization-server").await;
    assert_eq!(oidc, oauth);
    assert_eq!(oidc["issuer"], server.issuer);
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        oidc["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        oidc["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        oidc["dpop_signing_alg_values_supported"],
        serde_json::json!(["ES256", "EdDSA"])
    );
    assert_eq!(
        oidc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "private_key_jwt", "none"])
    );
    assert_eq!(oidc["end_session_endpoint"], server.url("/logout"));
    assert_eq!(oidc["jwks_uri"], server.url("/jwks"));
    let health = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn rotation_publishes_at_once_signs_after_the_delay_and_keeps_the_old_key() {
    let server = TestServer::start().await;
    let old = kids(&json(&server, "/jwks").await);
    assert_eq!(old.len(), 1);
    let new = server
        .state
        .keys
        .store()
        .rotate(Duration::from_secs(600))
        .await
        .unwrap();
    server.state.keys.refresh_now().await.unwrap();
    let mut published = kids(&json(&server, "/jwks").await);
    published.sort();
    let mut expected = vec![old[0].clone(), new.kid.clone()];
    expected.sort();
    assert_eq!(published, expected, "the new key is published at once");
    // Still signing with the old key during the delay.
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let tokens = server.redeem(&code, &v, &server.dpop_key()).await;
    assert_eq!(kid_of(tokens["access_token"].as_str().unwrap()), old[0]);
    // After the delay, the new key signs; the old one stays published.
    server.clock.advance(600);
    server.state.keys.refresh_now().await.unwrap();
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let tokens = server.redeem(&code, &v, &server.dpop_key()).await;
    assert_eq!(kid_of(tokens["access_token"].as_str().unwrap()), new.kid);
    assert!(kids(&json(&server, "/jwks").await).contains(&old[0]));
    // Once every token it signed has expired (lifetime 600 s + 300 s leeway), it is withdrawn.
    server.clock.advance(901);
    server.state.keys.refresh_now().await.unwrap();
    assert_eq!(kids(&json(&server, "/jwks").await), [new.kid]);
}

async fn logged_in_tokens(server: &TestServer) -> (Browser, Value, tokens::DpopKey) {
    let browser = server.browser();
    let v = Verifier::new();
    let callback = browser
        .login(&server.authorize_url(&v.challenge, &[]), "alice")
        .await;
    let code = query_param(&callback, "code").unwrap();
    let key = server.dpop_key();
    let tokens = server.redeem(&code, &v, &key).await;
    (browser, tokens, key)
}

async fn userinfo(
    server: &TestServer,
    scheme: &str,
    token: &str,
    proof: Option<String>,
) -> reqwest::Response {
    let mut request = server
        .http
        .get(server.url("/userinfo"))
        .header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    request.send().await.unwrap()
}

fn www_authenticate_error(response: &reqwest::Response) -> String {
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    challenge
}

#[tokio::test]
async fn userinfo_requires_the_proof_of_a_bound_token() {
    let server = TestServer::start().await;
    let (_, tokens, key) = logged_in_tokens(&server).await;
    let token = tokens["access_token"].as_str().unwrap();
    let htu = tokens::Htu::parse(&server.url("/userinfo")).unwrap();
    let proof = || key.proof(&Method::GET, &htu, Some(token), None).unwrap();

    let ok = userinfo(&server, "DPoP", token, Some(proof())).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["sub"], "demo-user-alice");
    assert_eq!(body["name"], "Alice Example");

    // The Bearer downgrade of a bound token (RFC 9449 §7.2).
    let bearer = userinfo(&server, "Bearer", token, None).await;
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);
    assert!(www_authenticate_error(&bearer).contains("error=\"invalid_token\""));
    // DPoP scheme without a proof; with another key's proof.
    let missing = userinfo(&server, "DPoP", token, None).await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(www_authenticate_error(&missing).contains("error=\"invalid_dpop_proof\""));
    let thief = server
        .dpop_key()
        .proof(&Method::GET, &htu, Some(token), None)
        .unwrap();
    let stolen = userinfo(&server, "DPoP", token, Some(thief)).await;
    assert_eq!(stolen.status(), StatusCode::UNAUTHORIZED);
    // No credentials: the challenge alone.
    let none = server
        .http
        .get(server.url("/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    www_authenticate_error(&none);
    // A revoked token stops working here at once.
    let revoke = server
        .http
        .post(server.url("/revoke"))
        .basic_auth(WEB_APP, Some(SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    let revoked = userinfo(&server, "DPoP", token, Some(proof())).await;
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    assert!(www_authenticate_error(&revoked).contains("revoked"));
}

#[tokio::test]
async fn introspection_and_revocation_are_client_authenticated_and_client_scoped() {
    let server = TestServer::start().await;
    let (_, tokens, _) = logged_in_tokens(&server).await;
    let token = tokens["access_token"].as_str().unwrap();
    // Unauthenticated.
    let response = server
        .http
        .post(server.url("/introspect"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_client").await;
    let response = server
        .http
        .post(server.url("/revoke"))
        .basic_auth(WEB_APP, Some("wrong"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // Missing token.
    let response = server
        .http
        .post(server.url("/revoke"))
        .basic_auth(WEB_APP, Some(SECRET))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Unknown tokens: 200 on revocation, inactive on introspection.
    let response = server
        .http
        .post(server.url("/revoke"))
        .basic_auth(WEB_APP, Some(SECRET))
        .form(&[("token", "junk")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = server
        .http
        .post(server.url("/introspect"))
        .basic_auth(WEB_APP, Some(SECRET))
        .form(&[("token", "junk")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body, serde_json::json!({"active": false}));
    // The refresh token introspects as active for its client.
    let body: Value = server
        .http
        .post(server.url("/introspect"))
        .basic_auth(WEB_APP, Some(SECRET))
        .form(&[("token", tokens["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "refresh_token");
}

#[tokio::test]
async fn logout_without_a_hint_asks_for_confirmation() {
    let server = TestServer::start().await;
    let (browser, tokens, key) = logged_in_tokens(&server).await;
    let response = browser.get("/logout").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let csrf = hidden(&html, "csrf_token");
    let forged = browser.post("/logout", &[("csrf_token", "forged")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let done = browser.post("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(browser.cookie().is_none());
    // The session's refresh tokens were revoked with it.
    let response = server
        .token_request(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
            Some(&key),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // An unregistered post-logout URI is refused with a page.
    let response = browser
        .get(&format!(
            "/logout?id_token_hint={}&post_logout_redirect_uri=https://evil.example/",
            tokens["id_token"].as_str().unwrap()
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn an_id_token_of_an_earlier_session_does_not_end_the_current_one_unasked() {
    let server = TestServer::start().await;
    let (browser, earlier, _) = logged_in_tokens(&server).await;
    let earlier_hint = format!(
        "/logout?id_token_hint={}",
        earlier["id_token"].as_str().unwrap()
    );
    assert_eq!(browser.get(&earlier_hint).await.status(), StatusCode::OK);
    assert!(browser.cookie().is_none(), "the hinted session ended");
    // Alice signs in again in the same browser: a new session with a new `sid`.
    let v = Verifier::new();
    let callback = browser
        .login(&server.authorize_url(&v.challenge, &[]), "alice")
        .await;
    let code = query_param(&callback, "code").unwrap();
    let current = server.redeem(&code, &v, &server.dpop_key()).await;
    let cookie = browser.cookie().expect("a new session");

    // The old ID token (past its `exp` too) only gets the confirmation form.
    server.clock.advance(600);
    let response = browser.get(&earlier_hint).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("name=\"csrf_token\""), "{html}");
    assert_eq!(browser.cookie().as_deref(), Some(cookie.as_str()));
    // The current session's ID token still ends it at once.
    let response = browser
        .get(&format!(
            "/logout?id_token_hint={}",
            current["id_token"].as_str().unwrap()
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(browser.cookie().is_none());
}

#[tokio::test]
async fn the_flow_emits_step_events_3_4_5_7_and_8() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let request_id = "step-events-test-0001";
    *browser.request_id.lock().unwrap() = Some(request_id.into());
    let v = Verifier::new();
    let callback = browser
        .login(&server.authorize_url(&v.challenge, &[]), "alice")
        .await;
    let code = query_param(&callback, "code").unwrap();
    let key = server.dpop_key();
    let proof = key
        .proof(&Method::POST, &server.token_htu(), None, None)
        .unwrap();
    let response = server
        .http
        .post(server.url("/token"))
        .basic_auth(WEB_APP, Some(SECRET))
        .header("x-request-id", request_id)
        .header("dpop", proof)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &v.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], request_id);
    let events = STEPS.for_request(request_id);
    let steps: Vec<u8> = events.iter().map(|e| e.step.number()).collect();
    for step in [3, 4, 5, 7, 8] {
        assert!(steps.contains(&step), "step {step} missing from {steps:?}");
    }
    assert!(
        events
            .iter()
            .all(|e| e.service == "external-iam" && e.outcome == Outcome::Ok),
        "{events:?}"
    );
}

#[test]
fn the_migration_creates_the_shared_signing_key_table() {
    let migration = include_str!("../../migrations/0001_schema.sql");
    assert!(migration.contains(storage::signing_keys::SCHEMA));
}
