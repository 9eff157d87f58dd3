//! The customer's DPoP-bound access token, obtained the way the web app obtains it (design steps
//! 2–8) but by the test: the authorization code flow as the `web-app` client with PKCE S256
//! (RFC 7636), its own DPoP key named in the request (`dpop_jkt`, RFC 9449 §10) and proving
//! possession at the token endpoint (§5), through the external IAM's real sign-in forms.
//!
//! The test then holds what only the web app holds in the running system (the token and its
//! key), so it can present them to Agent B well, and badly.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::Deserialize;
use tokens::{DpopKey, Htu, SystemClock};
use url::Url;

use crate::kit::{Browser, Page, TestEnv, demo_user};

/// One request to the external IAM may take this long on a loaded machine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Every scope the web app asks for (design step 2).
const SCOPE: &str = "openid profile chatbot:access agent:invoke";

/// A customer's access token and the DPoP key it is bound to. `Debug` leaves the token out.
pub struct CustomerToken {
    /// The demo user it was issued for.
    pub user: String,
    /// The access token (`at+jwt`, audience Agent B's API, `cnf.jkt` = [`Self::key`]'s).
    pub access_token: String,
    /// The key the token is bound to.
    pub key: DpopKey,
    /// The scopes granted (the token response's `scope`).
    pub scope: String,
}

impl fmt::Debug for CustomerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerToken")
            .field("user", &self.user)
            .field("jkt", &self.key.jkt())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The provider's endpoints, from its discovery document (OpenID Connect Discovery 1.0 §3).
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
}

/// The members of the token response read here (RFC 6749 §5.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    scope: Option<String>,
}

/// Logs `user` (a demo user) in at the external IAM through its forms, as the `web-app` client,
/// and redeems the code with a proof by a fresh DPoP key. The code is never delivered to the
/// web app: its session is not involved.
///
/// Uses one of the user's TOTP steps (`env.totp_code`), so a second login of the same user in
/// the same system waits for the next step, as [`TestEnv::totp_code`] explains.
pub async fn customer_token(env: &TestEnv, user: &str) -> CustomerToken {
    let http = crate::http_client(REQUEST_TIMEOUT)
        .unwrap_or_else(|error| panic!("cannot build an HTTP client: {error}"));
    let discovery: Discovery = read_json(
        http.get(env.iam_url("/.well-known/openid-configuration"))
            .send()
            .await,
        "the external IAM's discovery document",
    )
    .await;
    assert_eq!(
        discovery.issuer,
        env.stack().issuer(),
        "the discovered issuer"
    );

    let key = DpopKey::generate(Arc::new(SystemClock))
        .unwrap_or_else(|error| panic!("cannot generate a DPoP key: {error}"));
    let verifier = random_text();
    let state = random_text();
    let redirect_uri = env.stack().redirect_uri();
    let authorize = Url::parse_with_params(
        &discovery.authorization_endpoint,
        [
            ("response_type", "code"),
            ("client_id", external_iam::admin::demo::WEB_APP_CLIENT_ID),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", SCOPE),
            ("state", state.as_str()),
            ("nonce", random_text().as_str()),
            ("code_challenge", s256(&verifier).as_str()),
            ("code_challenge_method", "S256"),
            ("resource", env.stack().agent_b_resource()),
            ("dpop_jkt", key.jkt()),
        ],
    )
    .unwrap_or_else(|error| panic!("the authorization endpoint is not a URL: {error}"));

    let callback = sign_in(env, &env.browser(), authorize.as_str(), user).await;
    let code = code_from(&callback, &redirect_uri, &state, &discovery.issuer);

    let secret = std::fs::read_to_string(env.stack().client_secret_file())
        .unwrap_or_else(|error| panic!("cannot read the web app's client secret: {error}"));
    let htu = Htu::parse(&discovery.token_endpoint)
        .unwrap_or_else(|error| panic!("the token endpoint is not a valid htu: {error}"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let mut nonce: Option<String> = None;
    // At most one retry: the provider may ask for a server nonce in the proof (RFC 9449 §8).
    for _ in 0..2 {
        let proof = key
            .proof(&Method::POST, &htu, None, nonce.as_deref())
            .unwrap_or_else(|error| panic!("cannot make a DPoP proof: {error}"));
        let response = http
            .post(&discovery.token_endpoint)
            // RFC 6749 §2.3.1: the id and secret are form-encoded before HTTP Basic.
            .basic_auth(
                form_encode(external_iam::admin::demo::WEB_APP_CLIENT_ID),
                Some(form_encode(secret.trim())),
            )
            .header(wire::headers::DPOP, proof)
            .form(&form)
            .send()
            .await
            .unwrap_or_else(|error| panic!("the token request failed: {error}"));
        if response.status() == StatusCode::BAD_REQUEST
            && let Some(fresh) = response
                .headers()
                .get(wire::headers::DPOP_NONCE)
                .and_then(|value| value.to_str().ok())
            && nonce.is_none()
        {
            nonce = Some(fresh.to_owned());
            continue;
        }
        let tokens: TokenResponse = read_json(Ok(response), "the token response").await;
        assert!(
            tokens
                .token_type
                .eq_ignore_ascii_case(wire::token_types::TOKEN_TYPE_DPOP),
            "the access token is not DPoP-bound: token_type {:?}",
            tokens.token_type
        );
        return CustomerToken {
            user: user.to_owned(),
            access_token: tokens.access_token,
            key,
            scope: tokens.scope.unwrap_or_else(|| SCOPE.to_owned()),
        };
    }
    panic!("the token endpoint asked for a DPoP nonce twice");
}

/// The IAM's sign-in: from the authorization request to the redirect back to the client (the
/// returned URL, not followed). The same hops as [`Browser::login`], started from this
/// authorization request instead of the web app's.
async fn sign_in(env: &TestEnv, browser: &Browser, authorize: &str, user: &str) -> String {
    let login = browser
        .get(authorize)
        .await
        .redirect("the authorization request");
    let form = browser.get(&login).await;
    form.assert_status(StatusCode::OK, "the IAM's login form");
    let totp_page = browser
        .post(
            &on_origin(&form, "/login"),
            &[
                ("csrf_token", &field(&form, "csrf_token")),
                ("request", &field(&form, "request")),
                ("username", user),
                ("password", demo_user(user).password),
            ],
        )
        .await
        .redirect("the password");
    let totp_form = browser.get(&totp_page).await;
    totp_form.assert_status(StatusCode::OK, "the IAM's TOTP form");
    let code = env.totp_code(user).await;
    browser
        .post(
            &on_origin(&totp_form, "/login/totp"),
            &[
                ("csrf_token", &field(&totp_form, "csrf_token")),
                ("request", &field(&totp_form, "request")),
                ("code", &code),
            ],
        )
        .await
        .redirect("the TOTP code")
}

/// The code of the redirect back to the client, after checking it is for this request: the
/// registered redirect URI, our `state`, and the issuer's `iss` (RFC 9207).
fn code_from(callback: &str, redirect_uri: &str, state: &str, issuer: &str) -> String {
    let url = Url::parse(callback)
        .unwrap_or_else(|error| panic!("the IAM redirected to {callback:?}: {error}"));
    assert_eq!(
        format!("{}{}", url.origin().ascii_serialization(), url.path()),
        redirect_uri,
        "the IAM redirected elsewhere than the registered redirect URI"
    );
    let param = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    assert_eq!(
        param("state").as_deref(),
        Some(state),
        "state on the callback"
    );
    assert_eq!(param("iss").as_deref(), Some(issuer), "iss on the callback");
    param("code").unwrap_or_else(|| panic!("no code on the callback {callback}"))
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Result<reqwest::Response>,
    what: &str,
) -> T {
    let response = response.unwrap_or_else(|error| panic!("{what}: the request failed: {error}"));
    let status = response.status();
    let body = response
        .text()
        .await
        .unwrap_or_else(|error| panic!("{what}: reading the answer failed: {error}"));
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("{what}: {error}: {body}"))
}

fn field(page: &Page, name: &str) -> String {
    page.input(name)
        .unwrap_or_else(|| panic!("no {name:?} field on {}: {page}", page.url))
}

/// `path` on the page's origin: where the IAM's sign-in forms post.
fn on_origin(page: &Page, path: &str) -> String {
    Url::parse(&page.url)
        .and_then(|base| base.join(path))
        .map(String::from)
        .unwrap_or_else(|error| panic!("{path} on {}: {error}", page.url))
}

/// 256 random bits, base64url: a PKCE verifier (43 characters, RFC 7636 §4.1), a `state`, a
/// `nonce`.
fn random_text() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .unwrap_or_else(|_| panic!("no randomness"));
    tokens::b64::encode(bytes)
}

/// RFC 7636 §4.2: `BASE64URL(SHA256(ASCII(code_verifier)))`.
fn s256(verifier: &str) -> String {
    tokens::b64::encode(digest(&SHA256, verifier.as_bytes()))
}

fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn s256_matches_the_rfc_example() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_callback_must_answer_this_request() {
        let redirect = "http://127.0.0.1:1/auth/callback";
        let issuer = "http://127.0.0.1:2";
        let callback = format!("{redirect}?code=c1&state=s1&iss=http%3A%2F%2F127.0.0.1%3A2");
        assert_eq!(code_from(&callback, redirect, "s1", issuer), "c1");
        let wrong_state = std::panic::catch_unwind(|| code_from(&callback, redirect, "s2", issuer));
        assert!(wrong_state.is_err());
    }
}
