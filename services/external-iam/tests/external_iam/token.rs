//! `/token` refusals, each with its exact status and OAuth error, and the revocations that code
//! replay and refresh-token reuse trigger.

use http::{Method, StatusCode};
use serde_json::json;
use tokens::{Algorithm, Jwks, SigningKey};

use crate::support::*;
use external_iam::admin::registration;
use external_iam::auth::opaque;
use external_iam::store::clients::{self, AuthMethod};

const OTHER: &str = "other-app";
const OTHER_SECRET: &str = "other-app-secret-0123456789abcdefghijklmnop";

async fn register_other(server: &TestServer) {
    let client = registration(
        OTHER.into(),
        AuthMethod::ClientSecretBasic,
        Some(opaque::hash(OTHER_SECRET)),
        None,
        vec![REDIRECT.into()],
        vec![],
        vec![
            "openid".into(),
            "profile".into(),
            "chatbot:access".into(),
            "agent:invoke".into(),
        ],
        vec![RESOURCE.into()],
    )
    .unwrap();
    clients::upsert(server.state.pool(), &client, None, START)
        .await
        .unwrap();
}

fn code_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ]
}

async fn introspect(server: &TestServer, token: &str) -> serde_json::Value {
    server
        .http
        .post(server.url("/introspect"))
        .basic_auth(WEB_APP, Some(SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_code_exchange_returns_dpop_bound_tokens() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let key = server.dpop_key();
    let response = server
        .token_request(&code_form(&code, &v.verifier), Some(&key))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(body["expires_in"], 600);
    assert!(body["id_token"].is_string() && body["refresh_token"].is_string());
    let info = introspect(&server, body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["cnf"]["jkt"], key.jkt());
    assert_eq!(info["aud"], json!([RESOURCE, server.url("/userinfo")]));
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_is_refused_and_leaves_the_code_usable() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let other = Verifier::new();
    let response = server
        .token_request(&code_form(&code, &other.verifier), None)
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let response = server.token_request(&code_form(&code, "short"), None).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let mut form = code_form(&code, "");
    form.retain(|(k, _)| *k != "code_verifier");
    let response = server.token_request(&form, None).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Nothing changed: the right verifier still redeems the code.
    server.redeem(&code, &v, &server.dpop_key()).await;
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    server.clock.advance(60);
    let response = server
        .token_request(&code_form(&code, &v.verifier), None)
        .await;
    let why = assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(why.contains("expired"), "{why}");
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let key = server.dpop_key();
    let first = server.redeem(&code, &v, &key).await;
    let response = server
        .token_request(&code_form(&code, &v.verifier), Some(&key))
        .await;
    let why = assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(why.contains("already used"), "{why}");
    assert!(server.audit_has("code_replayed").await);
    // The access token and the refresh token of the first redemption are dead.
    let info = introspect(&server, first["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], false);
    let response = server
        .token_request(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ],
            Some(&key),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_redeemed_by_another_client_is_refused_and_stays_usable() {
    let server = TestServer::start().await;
    register_other(&server).await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let response = server
        .token_request_as(
            Some((OTHER, OTHER_SECRET)),
            &code_form(&code, &v.verifier),
            None,
        )
        .await;
    let why = assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(why.contains("another client"), "{why}");
    server.redeem(&code, &v, &server.dpop_key()).await;
}

#[tokio::test]
async fn a_redirect_uri_that_differs_from_the_request_is_refused() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let mut form = code_form(&code, &v.verifier);
    form[2] = ("redirect_uri", "http://localhost:8080/auth/callback/");
    let response = server.token_request(&form, None).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn client_authentication_failures() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let form = code_form(&code, &v.verifier);
    // Wrong secret, unknown client: 401 with a Basic challenge (RFC 6749 §5.2).
    for basic in [(WEB_APP, "wrong-secret"), ("nobody", SECRET)] {
        let response = server.token_request_as(Some(basic), &form, None).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"external-iam\", charset=\"UTF-8\""
        );
        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
    // No authentication for a confidential client.
    let mut anonymous = form.clone();
    anonymous.push(("client_id", WEB_APP));
    let response = server.token_request_as(None, &anonymous, None).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_client").await;
    // The secret in the body is not an accepted method.
    let mut post = anonymous.clone();
    post.push(("client_secret", SECRET));
    let response = server.token_request_as(None, &post, None).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert!(server.audit_has("client_auth_failed").await);
    // None of it consumed the code.
    server.redeem(&code, &v, &server.dpop_key()).await;
}

#[tokio::test]
async fn private_key_jwt_authenticates_and_a_wrong_assertion_is_refused() {
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
    let assertion = |signer: &SigningKey, jti: &str| {
        let now = tokens::Clock::now(&*server.clock);
        tokens::jws::sign(
            signer,
            "JWT",
            &json!({"iss": "jwt-app", "sub": "jwt-app", "aud": server.url("/token"),
                    "iat": now, "exp": now + 60, "jti": jti}),
            None,
        )
        .unwrap()
    };
    let v = Verifier::new();
    let code = server
        .code_for(
            "alice",
            &v,
            &[("client_id", "jwt-app"), ("scope", "openid agent:invoke")],
        )
        .await;
    let form = |assertion: &str| {
        let mut form = code_form(&code, &v.verifier);
        form.push((
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ));
        form.push(("client_assertion", assertion));
        form.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>()
    };
    let stranger = SigningKey::generate(Algorithm::Es256).unwrap();
    let forged = assertion(&stranger, "jti-1");
    let response = server
        .http
        .post(server.url("/token"))
        .form(&form(&forged))
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_client").await;
    let good = assertion(&key, "jti-2");
    let response = server
        .http
        .post(server.url("/token"))
        .form(&form(&good))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // An assertion is single-use.
    let response = server
        .http
        .post(server.url("/token"))
        .form(&form(&good))
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_client").await;
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_family() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let key = server.dpop_key();
    let first = server.redeem(&code, &v, &key).await;
    let old = first["refresh_token"].as_str().unwrap();
    let response = server
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", old)],
            Some(&key),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: serde_json::Value = response.json().await.unwrap();
    let new = second["refresh_token"].as_str().unwrap();
    assert_ne!(old, new);
    // The old one again: refused, and the whole family goes.
    let response = server
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", old)],
            Some(&key),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(server.audit_has("refresh_reuse_detected").await);
    let response = server
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", new)],
            Some(&key),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let info = introspect(&server, second["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], false);
}

#[tokio::test]
async fn refresh_by_another_client_or_with_another_key_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    register_other(&server).await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let key = server.dpop_key();
    let tokens = server.redeem(&code, &v, &key).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let response = server
        .token_request_as(Some((OTHER, OTHER_SECRET)), &form, Some(&key))
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let thief = server.dpop_key();
    let response = server.token_request(&form, Some(&thief)).await;
    let why = assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
    assert!(why.contains("another key"), "{why}");
    let response = server.token_request(&form, None).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
    // Widening the scope is refused too.
    let response = server
        .token_request(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("scope", "openid email"),
            ],
            Some(&key),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
    // The rightful holder still refreshes.
    let response = server.token_request(&form, Some(&key)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn invalid_dpop_proofs_are_refused() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let key = server.dpop_key();
    let form = code_form(&code, &v.verifier);
    let wrong_htu = key
        .proof(
            &Method::POST,
            &tokens::Htu::parse("http://elsewhere.example/token").unwrap(),
            None,
            None,
        )
        .unwrap();
    let wrong_method = key
        .proof(&Method::GET, &server.token_htu(), None, None)
        .unwrap();
    let mut tampered = key
        .proof(&Method::POST, &server.token_htu(), None, None)
        .unwrap();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for proof in [wrong_htu, wrong_method, tampered, "not-a-jwt".to_owned()] {
        let response = server
            .http
            .post(server.url("/token"))
            .basic_auth(WEB_APP, Some(SECRET))
            .header("DPoP", proof)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
    }
    // A proof is single-use.
    let proof = key
        .proof(&Method::POST, &server.token_htu(), None, None)
        .unwrap();
    let send = |proof: String| {
        server
            .http
            .post(server.url("/token"))
            .basic_auth(WEB_APP, Some(SECRET))
            .header("DPoP", proof)
            .form(&form)
            .send()
    };
    assert_eq!(send(proof.clone()).await.unwrap().status(), StatusCode::OK);
    let v2 = Verifier::new();
    let code2 = server.code_for("alice", &v2, &[]).await;
    let response = server
        .http
        .post(server.url("/token"))
        .basic_auth(WEB_APP, Some(SECRET))
        .header("DPoP", proof)
        .form(&code_form(&code2, &v2.verifier))
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
}

#[tokio::test]
async fn a_code_bound_with_dpop_jkt_needs_a_proof_by_that_key() {
    let server = TestServer::start().await;
    let v = Verifier::new();
    let key = server.dpop_key();
    let code = server
        .code_for("alice", &v, &[("dpop_jkt", key.jkt())])
        .await;
    let response = server
        .token_request(&code_form(&code, &v.verifier), Some(&server.dpop_key()))
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
    let response = server
        .token_request(&code_form(&code, &v.verifier), None)
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
    server.redeem(&code, &v, &key).await;
}

#[tokio::test]
async fn malformed_token_requests() {
    let server = TestServer::start().await;
    let response = server
        .token_request(&[("grant_type", "password")], None)
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    let response = server
        .token_request(&[("grant_type", "client_credentials")], None)
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    let response = server.token_request(&[("code", "x")], None).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let response = server
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("grant_type", "refresh_token"),
            ],
            None,
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let response = server
        .http
        .post(server.url("/token"))
        .basic_auth(WEB_APP, Some(SECRET))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let huge = "x".repeat(17 * 1024);
    let response = server
        .token_request(
            &[("grant_type", "authorization_code"), ("code", &huge)],
            None,
        )
        .await;
    let why = assert_oauth_error(response, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request").await;
    assert!(why.contains("16384-byte limit"), "{why}");
    // A garbage code is just invalid.
    let response = server
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", "garbage"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &"a".repeat(43)),
            ],
            None,
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn public_clients_must_use_dpop() {
    let server = TestServer::start().await;
    let client = registration(
        "spa".into(),
        AuthMethod::None,
        None,
        None,
        vec![REDIRECT.into()],
        vec![],
        vec!["openid".into()],
        vec![],
    )
    .unwrap();
    clients::upsert(server.state.pool(), &client, None, START)
        .await
        .unwrap();
    let v = Verifier::new();
    let code = server
        .code_for(
            "alice",
            &v,
            &[("client_id", "spa"), ("scope", "openid"), ("resource", "")],
        )
        .await;
    let mut form = code_form(&code, &v.verifier);
    form.push(("client_id", "spa"));
    let response = server.token_request_as(None, &form, None).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
    let key = server.dpop_key();
    let response = server.token_request_as(None, &form, Some(&key)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
}

#[tokio::test]
async fn with_nonces_enabled_a_proof_without_one_gets_use_dpop_nonce() {
    let server = TestServer::start_with(|config| config.dpop_nonces = true).await;
    let v = Verifier::new();
    let code = server.code_for("alice", &v, &[]).await;
    let key = server.dpop_key();
    let form = code_form(&code, &v.verifier);
    let response = server.token_request(&form, Some(&key)).await;
    let nonce = response.headers()["dpop-nonce"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "use_dpop_nonce").await;
    let proof = key
        .proof(&Method::POST, &server.token_htu(), None, Some(&nonce))
        .unwrap();
    let response = server
        .http
        .post(server.url("/token"))
        .basic_auth(WEB_APP, Some(SECRET))
        .header("DPoP", proof)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().contains_key("dpop-nonce"),
        "a fresh nonce comes with success too"
    );
}
