//! The full code flow, driven by the `openidconnect` crate as the relying party: discovery,
//! authorization request, the real login and TOTP forms, code exchange with PKCE and DPoP, ID
//! token validation (signature from the JWKS, nonce, at_hash), UserInfo with a DPoP proof,
//! refresh, introspection, revocation and logout.

use std::future::Future;
use std::pin::Pin;

use http::{Method, StatusCode};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl,
    IntrospectionUrl, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    PostLogoutRedirectUrl, RedirectUrl, Scope, TokenIntrospectionResponse as _, TokenResponse as _,
};
use tokens::claims::AccessTokenClaims;
use tokens::{Algorithm, DpopKey, Htu, Jwks, Validator};

use crate::support::*;

type Http = openidconnect::HttpRequest;
type HttpResponse = openidconnect::HttpResponse;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TransportError(String);

/// The RP's HTTP transport: reqwest without redirects, plus DPoP, which `openidconnect` does not
/// implement: a proof on every token request, and UserInfo's `Bearer` rewritten to `DPoP` with a
/// proof over the token.
fn dpop_transport<'a>(
    http: &'a reqwest::Client,
    key: &'a DpopKey,
    token_url: &'a str,
    userinfo_url: &'a str,
) -> impl Fn(Http) -> Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + 'a>> + 'a
{
    move |request: Http| {
        let (mut parts, body) = request.into_parts();
        let uri = parts.uri.to_string();
        if uri == token_url && parts.method == Method::POST {
            let proof = key
                .proof(&Method::POST, &Htu::parse(token_url).unwrap(), None, None)
                .unwrap();
            parts.headers.insert("dpop", proof.parse().unwrap());
        }
        if uri == userinfo_url {
            let bearer = parts
                .headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let token = bearer.strip_prefix("Bearer ").unwrap().to_owned();
            let proof = key
                .proof(
                    &parts.method,
                    &Htu::parse(userinfo_url).unwrap(),
                    Some(&token),
                    None,
                )
                .unwrap();
            parts
                .headers
                .insert("authorization", format!("DPoP {token}").parse().unwrap());
            parts.headers.insert("dpop", proof.parse().unwrap());
        }
        Box::pin(async move {
            let mut builder = http.request(parts.method, uri).body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let response = builder
                .send()
                .await
                .map_err(|e| TransportError(e.to_string()))?;
            let mut out = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                out = out.header(name, value);
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| TransportError(e.to_string()))?;
            out.body(bytes.to_vec())
                .map_err(|e| TransportError(e.to_string()))
        })
    }
}

#[tokio::test]
async fn the_full_code_flow_with_an_openid_connect_client() {
    let server = TestServer::start().await;
    let http = server.http.clone();

    // Discovery, as any OpenID Connect client does it.
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(WEB_APP.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_introspection_url(IntrospectionUrl::new(server.url("/introspect")).unwrap());

    // Step 2: the authorization request, PKCE S256, state, nonce, scopes and the resource.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("chatbot:access".into()))
        .add_scope(Scope::new("agent:invoke".into()))
        .add_extra_param("resource", RESOURCE)
        .set_pkce_challenge(challenge)
        .url();

    // Steps 3–5: the customer logs in through the real forms.
    let browser = server.browser();
    let callback = browser.login(authorize_url.as_str(), "alice").await;
    assert!(callback.starts_with(REDIRECT), "{callback}");
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(server.issuer.as_str())
    );
    let code = query_param(&callback, "code").unwrap();

    // Steps 7–8: the code exchange, DPoP-bound.
    let dpop = server.dpop_key();
    let token_url = server.url("/token");
    let userinfo_url = server.url("/userinfo");
    let transport = dpop_transport(&http, &dpop, &token_url, &userinfo_url);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&transport)
        .await
        .unwrap();
    // The library lower-cases token types it does not know; the wire value is checked in the
    // token endpoint tests.
    assert!(tokens.token_type().as_ref().eq_ignore_ascii_case("DPoP"));
    let granted: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        granted,
        ["openid", "profile", "chatbot:access", "agent:invoke"]
    );

    // The ID token, validated by the library: signature against the published JWKS, issuer,
    // audience, expiry (on the test's clock), nonce; then at_hash.
    let clock = server.clock.clone();
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256])
        .set_time_fn(move || chrono_from(tokens::Clock::now(&*clock)));
    let id_token = tokens.id_token().unwrap();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), "demo-user-alice");
    assert_eq!(claims.preferred_username().unwrap().as_str(), "alice");
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    assert_eq!(amr, ["pwd", "otp"]);
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));

    // The access token as Agent B will see it: RFC 9068, audience = Agent B, bound to the key.
    let jwks: serde_json::Value = http
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let validator = Validator::builder()
        .issuer(server.issuer.clone())
        .audience(RESOURCE)
        .typ("at+jwt")
        .algorithms(&[Algorithm::Es256])
        .clock(server.clock.clone())
        .keys(Jwks::from_json(jwks.to_string().as_bytes()).unwrap())
        .require_scopes(&["agent:invoke"])
        .build()
        .unwrap();
    let access = validator
        .validate::<AccessTokenClaims>(tokens.access_token().secret())
        .await
        .unwrap();
    assert_eq!(access.claims().dpop_jkt(), Some(dpop.jkt()));
    assert_eq!(access.claims().client_id, WEB_APP);
    assert!(access.claims().exp - access.claims().iat <= 900);

    // UserInfo with the DPoP-bound token and a proof.
    let userinfo: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&transport)
        .await
        .unwrap();
    assert_eq!(userinfo.preferred_username().unwrap().as_str(), "alice");

    // Refresh: a new pair; the old refresh token is spent.
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&transport)
        .await
        .unwrap();
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        tokens.refresh_token().unwrap().secret()
    );
    assert!(refreshed.token_type().as_ref().eq_ignore_ascii_case("DPoP"));

    // Introspection: the new access token is active, with its binding.
    let introspection = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(introspection.active());
    assert_eq!(introspection.client_id().unwrap().as_str(), WEB_APP);

    // Revocation of the refresh token revokes the family, access tokens included. (The library
    // refuses to revoke over plain http, as RFC 7009 §2 asks TLS; the test server is http, so
    // this one request is made by hand.)
    let response = http
        .post(server.url("/revoke"))
        .basic_auth(WEB_APP, Some(SECRET))
        .form(&[
            (
                "token",
                refreshed.refresh_token().unwrap().secret().as_str(),
            ),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let after = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(!after.active());
    let reuse = client
        .exchange_refresh_token(refreshed.refresh_token().unwrap())
        .unwrap()
        .request_async(&transport)
        .await;
    assert!(reuse.is_err(), "a revoked refresh token must not work");

    // RP-initiated logout with the ID token as hint, back to the registered URI with state.
    let logout = LogoutRequest::from(EndSessionUrl::new(server.url("/logout")).unwrap())
        .set_id_token_hint(id_token)
        .set_post_logout_redirect_uri(
            PostLogoutRedirectUrl::new("http://localhost:8080/".into()).unwrap(),
        )
        .set_state(CsrfToken::new("bye".into()))
        .http_get_url();
    let response = browser.get(logout.as_str()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "http://localhost:8080/?state=bye");
    assert!(browser.cookie().is_none(), "the session cookie is cleared");
    assert!(server.audit_has("logout").await);

    // Every audited step of the flow is on record.
    for event in [
        "login_succeeded",
        "code_issued",
        "code_redeemed",
        "token_issued",
        "token_refreshed",
        "token_revoked",
    ] {
        assert!(server.audit_has(event).await, "{event}");
    }
}

fn chrono_from(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap()
}

#[tokio::test]
async fn single_sign_on_answers_a_second_request_without_the_forms() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let first = Verifier::new();
    browser
        .login(&server.authorize_url(&first.challenge, &[]), "alice")
        .await;
    let second = Verifier::new();
    let response = browser
        .get(&server.authorize_url(&second.challenge, &[]))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let callback = location(&response);
    assert!(callback.starts_with(REDIRECT));
    assert!(query_param(&callback, "code").is_some());
    // prompt=login forces the forms again.
    let third = Verifier::new();
    let response = browser
        .get(&server.authorize_url(&third.challenge, &[("prompt", "login")]))
        .await;
    assert!(location(&response).starts_with("/login?request="));
}

#[tokio::test]
async fn login_rotates_the_session_cookie() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let verifier = Verifier::new();
    let login = browser
        .start(&server.authorize_url(&verifier.challenge, &[]))
        .await;
    let before = browser.cookie().unwrap();
    let response = browser
        .submit_password(&login, "alice", password_of("alice"))
        .await;
    let totp_url = location(&response);
    server.clock.advance(30);
    let code = totp_of("alice").code_at(START + 30);
    let response = browser.submit_totp(&totp_url, &code).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let after = browser.cookie().unwrap();
    assert_ne!(before, after, "the session id changes at login");
    // The pre-login id is dead: a browser still holding it is anonymous.
    let stale = server.browser();
    *stale.cookie.lock().unwrap() = Some(before);
    let again = Verifier::new();
    let response = stale
        .get(&server.authorize_url(&again.challenge, &[]))
        .await;
    assert!(location(&response).starts_with("/login?request="));
}

#[tokio::test]
async fn carol_without_chatbot_access_gets_a_token_without_it() {
    let server = TestServer::start().await;
    let verifier = Verifier::new();
    let code = server.code_for("carol", &verifier, &[]).await;
    let tokens = server.redeem(&code, &verifier, &server.dpop_key()).await;
    assert_eq!(tokens["scope"], "openid profile agent:invoke");
}
