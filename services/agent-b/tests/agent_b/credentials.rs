//! Step 12: every way the customer's token or its proof is refused, with the exact status,
//! OAuth error and `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9449 §7).

use http::Method;
use serde_json::json;
use tokens::{Algorithm, Htu, KeySet, SigningKey};
use wire::GrantType;

use crate::support::web_app::Reply;
use crate::support::{ALICE, TestEnv};

const ALGS: &str = r#"algs="ES256 EdDSA""#;

/// `DPoP realm="agent-b", error="<code>", error_description="<description>", algs="ES256 EdDSA"`.
fn challenge(code: &str, description: &str) -> String {
    format!(r#"DPoP realm="agent-b", error="{code}", error_description="{description}", {ALGS}"#)
}

/// A 401 or 403 with `code` in the body and the challenge, and nothing asked of the IAM.
async fn assert_refused(env: &TestEnv, reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.error(), code, "{}", reply.body);
    let challenge = reply.www_authenticate().unwrap();
    assert!(
        challenge.starts_with("DPoP realm=\"agent-b\""),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("error=\"{code}\"")),
        "{challenge}"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(reply.header("x-request-id").is_some());
    assert_eq!(env.iam.issued(GrantType::TokenExchange.as_str()).await, 0);
}

#[tokio::test]
async fn no_credentials_get_the_bare_challenge() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let mut call = web.call("unused", "What is my balance?");
    call.authorization = None;
    call.proofs.clear();
    let reply = web.send(call).await;
    assert_eq!(reply.status, 401);
    // RFC 6750 §3.1: no error code for a request without credentials, and no body.
    assert_eq!(
        reply.www_authenticate(),
        Some(r#"DPoP realm="agent-b", algs="ES256 EdDSA""#)
    );
    assert!(reply.body.is_null(), "{}", reply.body);

    // An unknown scheme is the same as none.
    let mut call = web.call("unused", "What is my balance?");
    call.authorization = Some("Basic YWxpY2U6c2VjcmV0".to_owned());
    let reply = web.send(call).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.www_authenticate(),
        Some(r#"DPoP realm="agent-b", algs="ES256 EdDSA""#)
    );
    env.stop().await;
}

#[tokio::test]
async fn a_token_without_a_dpop_header_is_an_invalid_dpop_proof() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    let mut call = web.call(&token, "What is my balance?");
    call.proofs.clear();
    let reply = web.send(call).await;
    assert_refused(&env, &reply, 401, "invalid_dpop_proof").await;
    assert_eq!(
        reply.www_authenticate().unwrap(),
        challenge("invalid_dpop_proof", "the request has no DPoP header")
    );
    assert_eq!(
        reply.body,
        json!({"error": "invalid_dpop_proof",
               "error_description": "the request has no DPoP header"})
    );
    env.stop().await;
}

#[tokio::test]
async fn a_replayed_proof_is_refused() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    let call = web.call(&token, "hello");
    assert_eq!(web.send(call.clone()).await.status, 200);
    let replay = web.send(call).await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(replay.error(), "invalid_dpop_proof");
    assert_eq!(
        replay.www_authenticate().unwrap(),
        challenge(
            "invalid_dpop_proof",
            "the proof's `jti` was already used within the acceptance window"
        )
    );
    env.stop().await;
}

#[tokio::test]
async fn two_proofs_are_refused() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    let mut call = web.call(&token, "hello");
    call.proofs.push(web.proof(&token));
    let reply = web.send(call).await;
    assert_refused(&env, &reply, 401, "invalid_dpop_proof").await;
    assert_eq!(
        reply.body["error_description"],
        "the request has more than one DPoP header"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_dpop_bound_token_presented_as_bearer_is_an_invalid_token() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    for with_proof in [true, false] {
        let mut call = web.call(&token, "What is my balance?");
        call.authorization = Some(format!("Bearer {token}"));
        if !with_proof {
            call.proofs.clear();
        }
        let reply = web.send(call).await;
        assert_refused(&env, &reply, 401, "invalid_token").await;
        assert_eq!(
            reply.www_authenticate().unwrap(),
            challenge(
                "invalid_token",
                "a DPoP-bound token was presented with the Bearer scheme"
            )
        );
    }
    env.stop().await;
}

#[tokio::test]
async fn a_token_bound_to_no_key_is_refused_whatever_the_scheme() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let unbound = env.issuer.token_with(ALICE, &web.jkt(), |claims| {
        claims.as_object_mut().unwrap().remove("cnf");
    });
    let reply = web.chat(&unbound, "hello").await;
    assert_refused(&env, &reply, 401, "invalid_token").await;
    assert_eq!(
        reply.body["error_description"],
        "the token is presented with a DPoP proof but is not bound to a DPoP key"
    );
    let mut call = web.call(&unbound, "hello");
    call.authorization = Some(format!("Bearer {unbound}"));
    call.proofs.clear();
    let reply = web.send(call).await;
    assert_refused(&env, &reply, 401, "invalid_token").await;
    assert_eq!(
        reply.body["error_description"],
        "this API accepts DPoP-bound access tokens with the DPoP scheme only"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_token_without_agent_invoke_is_insufficient_scope() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.issuer.token_with(ALICE, &web.jkt(), |claims| {
        claims["scope"] = json!("openid profile chatbot:access");
    });
    let reply = web.chat(&token, "What is my balance?").await;
    assert_refused(&env, &reply, 403, "insufficient_scope").await;
    assert_eq!(
        reply.www_authenticate().unwrap(),
        format!(
            r#"DPoP realm="agent-b", scope="agent:invoke", error="insufficient_scope", error_description="the access token does not grant the scope agent:invoke", {ALGS}"#
        )
    );
    // The proof is checked before the scope: without the key, nothing is learnt about it.
    let mut call = web.call(&token, "What is my balance?");
    call.proofs.clear();
    assert_eq!(web.send(call).await.error(), "invalid_dpop_proof");
    env.stop().await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_an_invalid_token() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.issuer.token_with(ALICE, &web.jkt(), |claims| {
        claims["aud"] = json!(["https://agent-a.namespace-a.demo.test"]);
    });
    let reply = web.chat(&token, "What is my balance?").await;
    assert_refused(&env, &reply, 401, "invalid_token").await;
    assert_eq!(
        reply.body["error_description"],
        // RFC 6749 §5.2 keeps `"` out of descriptions; the shared type writes `'` instead.
        "the access token was refused: the audience does not include \
         'https://agent-b.namespace-b.demo.test'"
    );
    env.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_an_invalid_token() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    // The token lives 600 s; the validator allows 30 s of skew. The proof is made at the new
    // time, so only the token's age is wrong.
    env.clock.advance(629);
    assert_eq!(web.chat(&token, "hello").await.status, 200);
    env.clock.advance(1);
    let reply = web.chat(&token, "hello").await;
    assert_refused(&env, &reply, 401, "invalid_token").await;
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with("the access token was refused: the token expired at"),
        "{description}"
    );
    env.stop().await;
}

#[tokio::test]
async fn tokens_from_another_issuer_or_key_are_invalid_tokens() {
    let env = TestEnv::start().await;
    let web = env.web_app();

    let other_issuer = env.issuer.token_with(ALICE, &web.jkt(), |claims| {
        claims["iss"] = json!("https://impostor.example");
    });
    let reply = web.chat(&other_issuer, "hello").await;
    assert_refused(&env, &reply, 401, "invalid_token").await;

    // The right claims, signed by a key the issuer never published.
    let forger = KeySet::new(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        std::time::Duration::from_secs(900),
        env.clock.clone(),
    );
    let forged = forger
        .sign("at+jwt", &env.issuer.claims(ALICE, &web.jkt()))
        .unwrap();
    let reply = web.chat(&forged, "hello").await;
    assert_refused(&env, &reply, 401, "invalid_token").await;
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(description.contains("no key with `kid`"), "{description}");

    // Signed by the issuer, but not typed as an access token (an ID token, say).
    let untyped = env
        .issuer
        .sign_as("JWT", &env.issuer.claims(ALICE, &web.jkt()));
    let reply = web.chat(&untyped, "hello").await;
    assert_refused(&env, &reply, 401, "invalid_token").await;
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(description.contains("`typ`"), "{description}");
    env.stop().await;
}

#[tokio::test]
async fn a_proof_for_another_url_or_by_another_key_is_refused() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);

    let mut call = web.call(&token, "hello");
    let elsewhere = Htu::parse(&env.chat_url.as_str().replace("/v1/chat", "/v1/other")).unwrap();
    call.proofs = vec![
        web.dpop
            .proof(&Method::POST, &elsewhere, Some(&token), None)
            .unwrap(),
    ];
    let reply = web.send(call).await;
    assert_refused(&env, &reply, 401, "invalid_dpop_proof").await;

    let mut call = web.call(&token, "hello");
    call.proofs = vec![
        web.dpop
            .proof(&Method::GET, &web.htu, Some(&token), None)
            .unwrap(),
    ];
    assert_refused(&env, &web.send(call).await, 401, "invalid_dpop_proof").await;

    // A thief with the token but another key: the binding fails (RFC 9449 §7.1).
    let thief = env.web_app();
    let mut call = web.call(&token, "hello");
    call.proofs = vec![thief.proof(&token)];
    let reply = web.send(call).await;
    assert_refused(&env, &reply, 401, "invalid_token").await;
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(description.starts_with("the proof's key"), "{description}");
    env.stop().await;
}
