//! The chat action end to end on the web app's side: steps 10, 11, 12 (mTLS, DPoP, request
//! context) and 23, Agent B's answers and errors, and the timeline.

use http::StatusCode;
use workload_identity::workloads;

use crate::support::iam::subject_of;
use crate::support::{AgentBMode, Browser, Options, STEPS, TestEnv};

#[tokio::test]
async fn alice_asks_for_her_balance_and_sees_it_with_the_timeline() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    let login_request_id = env.login(&browser, "alice").await;
    let page = env.chat(&browser, "What is my balance?").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let request_id = page.request_id();

    // The answer and the records.
    assert!(page.body.contains("What is my balance?"));
    assert!(page.body.contains("Your balance is 1842.50 EUR."));
    assert!(page.body.contains("1842.50 EUR</td>"));

    // What Agent B received: over mTLS from the web app's SPIFFE ID, alice's DPoP-bound token
    // with a proof by the session's key, and the page's request id.
    let seen = env.agent_b.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].peer, "spiffe://demo.test/ns/namespace-a/sa/web-app");
    assert_eq!(seen[0].subject, subject_of("alice"));
    assert_eq!(seen[0].request_id, request_id);
    assert_eq!(seen[0].message, "What is my balance?");
    let session = env.session_of(&browser).await.unwrap();
    let key = session.dpop_key.load(env.clock.clone()).unwrap();
    assert_eq!(seen[0].proof_jkt, key.jkt());

    // The timeline: all five phases, the login's steps and this request's, Agent B's rows in
    // namespace-b, and not the row it forged in the web app's name.
    for phase in [
        "Phase 1: Customer authentication (OIDC + PKCE)",
        "Phase 2: Cross-namespace service invocation",
        "Phase 3: Service-to-service auth (client_credentials + mTLS)",
        "Phase 4: Intra-namespace call (mesh mTLS only)",
        "Phase 5: Response propagation",
    ] {
        assert!(page.body.contains(phase), "{phase}");
    }
    for text in [
        "9. Server-side session established",
        "10. Chatbot action posted; CSRF token checked",
        "11. chatbot:access scope checked",
        "Agent B called over mTLS with the DPoP-bound token",
        "intent: balance",
        "23. Answer and timeline shown",
        "<th colspan=\"5\" scope=\"rowgroup\">namespace-b</th>",
        &login_request_id,
    ] {
        assert!(page.body.contains(text), "{text}");
    }
    assert!(!page.body.contains("forged"));
    assert_eq!(
        STEPS.summary(&request_id),
        [
            (10, "web-app".to_owned(), "ok"),
            (11, "web-app".to_owned(), "ok"),
            (12, "web-app".to_owned(), "ok"),
            (23, "web-app".to_owned(), "ok"),
        ]
    );
}

#[tokio::test]
async fn agent_b_errors_are_explained() {
    let env = TestEnv::start().await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    for (mode, status, text, outcome) in [
        (
            AgentBMode::Fail(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"),
            StatusCode::SERVICE_UNAVAILABLE,
            "Your account data is unavailable right now",
            "failed",
        ),
        (
            AgentBMode::Fail(StatusCode::UNAUTHORIZED, "invalid_token"),
            StatusCode::BAD_GATEWAY,
            "The assistant could not verify your sign-in",
            "rejected",
        ),
        (
            AgentBMode::Fail(StatusCode::FORBIDDEN, "insufficient_scope"),
            StatusCode::FORBIDDEN,
            "Your account is not allowed to use the assistant for this",
            "rejected",
        ),
        (
            AgentBMode::Fail(StatusCode::NOT_FOUND, "no_account"),
            StatusCode::NOT_FOUND,
            "We could not find any account data for you",
            "failed",
        ),
        (
            AgentBMode::OtherCustomersData,
            StatusCode::BAD_GATEWAY,
            "The answer could not be shown",
            "ok",
        ),
    ] {
        env.agent_b.set_mode(mode.clone());
        let page = env.chat(&browser, "What is my balance?").await;
        assert_eq!(page.status, status, "{mode:?}");
        assert!(page.body.contains(text), "{mode:?}: {}", page.body);
        assert!(!page.body.contains("1842.50"), "{mode:?}: no data shown");
        // Agent B's steps are in the timeline even when it refused.
        assert!(
            page.body.contains("customer token and DPoP proof"),
            "{mode:?}"
        );
        let events = STEPS.for_request(&page.request_id());
        let step12 = events.iter().find(|e| e.step.number() == 12).unwrap();
        assert_eq!(step12.outcome.label(), outcome, "{mode:?}");
        assert!(events.iter().any(|e| e.step.number() == 23), "{mode:?}");
    }
}

#[tokio::test]
async fn agent_b_dpop_nonces_are_answered_with_one_retry() {
    let env = TestEnv::start_with(Options {
        agent_b_nonces: true,
        ..Default::default()
    })
    .await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let page = env.chat(&browser, "What is my balance?").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        env.agent_b.refusals().len(),
        1,
        "the first proof had no nonce"
    );
    assert_eq!(env.agent_b.seen().len(), 1);
    // The nonce is remembered: the next call needs no retry.
    let page = env.chat(&browser, "What is my balance?").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(env.agent_b.refusals().len(), 1);
}

#[tokio::test]
async fn a_server_that_is_not_agent_b_is_refused_at_the_handshake() {
    let env = TestEnv::start_with(Options {
        agent_b_as: Some(workloads::SERVICE_A2),
        ..Default::default()
    })
    .await;
    let browser = Browser::new();
    env.login(&browser, "alice").await;
    let page = env.chat(&browser, "What is my balance?").await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY);
    assert!(
        page.body
            .contains("The assistant is not reachable right now")
    );
    assert!(env.agent_b.seen().is_empty(), "the token was never sent");
    let events = STEPS.for_request(&page.request_id());
    let step12 = events.iter().find(|e| e.step.number() == 12).unwrap();
    assert_eq!(step12.outcome.label(), "failed");
}
