//! The web app's door to the chat (design steps 1, 2, 10 and 11): without a session the chat
//! starts a login, exactly as the design describes it; with a session whose token lacks
//! `chatbot:access` it answers 403 and stays there, never sending the customer round the login
//! again, and never calling Agent B.

use e2e::Program;
use e2e::kit::{Page, TestEnv};
use http::StatusCode;
use url::Url;
use wire::Outcome;
use wire::steps;

#[tokio::test]
async fn the_chat_without_a_session_starts_the_login_at_the_iam() {
    let env = TestEnv::start().await;
    let browser = env.browser();

    let page = browser.get(&env.web_url("/chat")).await;
    let location = Url::parse(&page.redirect("the chat without a session")).unwrap();
    // Step 2: the authorization request, to the provider's authorization endpoint.
    assert_eq!(
        format!(
            "{}{}",
            location.origin().ascii_serialization(),
            location.path()
        ),
        env.iam_url("/authorize"),
        "{page}"
    );
    let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    let param = |name: &str| -> String {
        let values: Vec<&String> = query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(values.len(), 1, "{name} once in {location}");
        values[0].clone()
    };
    assert_eq!(param("response_type"), "code");
    assert_eq!(param("client_id"), "web-app");
    assert_eq!(param("redirect_uri"), env.stack().redirect_uri());
    assert_eq!(param("code_challenge_method"), "S256");
    // base64url of a SHA-256 digest (RFC 7636 §4.2), a thumbprint likewise (RFC 9449 §10).
    assert_eq!(param("code_challenge").len(), 43);
    assert_eq!(param("dpop_jkt").len(), 43);
    assert_eq!(param("resource"), env.stack().agent_b_resource());
    assert!(param("state").len() >= 22, "state has at least 128 bits");
    assert!(param("nonce").len() >= 22, "nonce has at least 128 bits");
    let mut scopes: Vec<String> = param("scope").split(' ').map(str::to_owned).collect();
    scopes.sort();
    assert_eq!(
        scopes,
        ["agent:invoke", "chatbot:access", "openid", "profile"]
    );
    // The login is pending under an opaque pre-login cookie, and no session exists.
    let set_cookie = page.header("set-cookie").unwrap_or_default();
    assert!(set_cookie.starts_with("web_login="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    assert_eq!(browser.cookie("web_session"), None);

    // A chat message posted without a session is not sent anywhere: back to the chat page,
    // which starts the login.
    let posted = browser
        .post(
            &env.web_url("/chat"),
            &[
                ("csrf_token", "anything"),
                ("message", "What is my balance?"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{posted}");
    assert_eq!(posted.header("location"), Some("/chat"), "{posted}");
    let request_id = posted.request_id();
    let events = env
        .wait_for_step_of(&request_id, steps::CHAT_ACTION_POSTED)
        .await;
    let step10 = events
        .iter()
        .find(|e| e.step == steps::CHAT_ACTION_POSTED)
        .expect("the web app reports step 10");
    assert_eq!(step10.outcome, Outcome::Rejected, "{step10:?}");
    assert_no_call_to_agent_b(&env, &request_id);
}

#[tokio::test]
async fn a_customer_without_chatbot_access_gets_403_not_a_login_loop() {
    let env = TestEnv::start().await;
    let browser = env.browser();
    // Carol signs in for real (password and TOTP): the IAM grants her no `chatbot:access`.
    browser.login("carol").await;
    let session = browser.cookie("web_session").expect("carol has a session");

    let page = browser.get(&env.web_url("/chat")).await;
    assert_forbidden(&page);
    // Asked again, the same answer: nothing sends her back to the IAM.
    let again = browser.get(&env.web_url("/chat")).await;
    assert_forbidden(&again);
    assert_eq!(
        browser.cookie("web_session"),
        Some(session),
        "the session is kept"
    );

    // A chat action with her own, valid CSRF token (from the sign-out form): 403 at step 11,
    // and Agent B is never called.
    let csrf = page
        .input("csrf_token")
        .expect("the sign-out form's CSRF token");
    let posted = browser
        .post(
            &env.web_url("/chat"),
            &[("csrf_token", &csrf), ("message", "What is my balance?")],
        )
        .await;
    assert_forbidden(&posted);
    let request_id = posted.request_id();
    let events = env
        .wait_for_step_of(&request_id, steps::CHAT_SCOPE_CHECKED)
        .await;
    let of_this = |step| {
        events
            .iter()
            .find(|e| e.step == step)
            .unwrap_or_else(|| panic!("no step {} event for the post", step.number()))
    };
    assert_eq!(of_this(steps::CHAT_ACTION_POSTED).outcome, Outcome::Ok);
    assert_eq!(
        of_this(steps::CHAT_SCOPE_CHECKED).outcome,
        Outcome::Rejected
    );
    assert_no_call_to_agent_b(&env, &request_id);
}

/// The 403 page: no redirect, the missing permission named.
#[track_caller]
fn assert_forbidden(page: &Page) {
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{page}");
    assert_eq!(page.header("location"), None, "{page}");
    assert!(
        page.body
            .contains("The chat is not available for your account"),
        "{page}"
    );
    assert!(page.body.contains("chatbot:access"), "{page}");
}

/// Neither the web app's call (its step 12) nor Agent B's checks happened for `request_id`.
#[track_caller]
fn assert_no_call_to_agent_b(env: &TestEnv, request_id: &str) {
    let called: Vec<_> = env
        .step_events_for(request_id)
        .into_iter()
        .filter(|e| e.step.number() >= 12 || e.service == Program::AgentB.name())
        .collect();
    assert!(called.is_empty(), "Agent B was involved: {called:#?}");
}
