//! The whole system: the customer logs in at the real external IAM and asks the real Agent B,
//! which gets its tokens from the real internal IAM and the records from the real Agent A and
//! Service A2. All 23 steps, in the page and in the logs.

use http::StatusCode;
use wire::Outcome;

use crate::support::{Browser, Options, STEPS, TestEnv};

async fn real_chain() -> TestEnv {
    TestEnv::start_with(Options {
        real_chain: true,
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn alice_sees_her_balance_and_all_23_steps() {
    let env = real_chain().await;
    let browser = Browser::new();
    let login_request_id = env.login(&browser, "alice").await;
    let page = env.chat(&browser, "What is my balance?").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let request_id = page.request_id();
    assert!(page.body.contains("1842.50 EUR</td>"), "{}", page.body);

    // Every step of the chat request was reported back: the only rows nobody reported are
    // the IAM's login steps 3, 4 and 5, which happen between the browser and the IAM...
    assert_eq!(
        page.body.matches("class=\"outcome not-reported\"").count(),
        3,
        "{}",
        page.body
    );
    // Step 7 is the web app's side of the code exchange; step 8 quotes how the IAM, in the
    // signed ID token, says it authenticated her (steps 3 and 4).
    assert!(
        page.body
            .contains("code, PKCE verifier and a DPoP proof sent to the token endpoint"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("the IAM signed amr pwd, otp"),
        "{}",
        page.body
    );
    // The summary counts each step once; every step has its row, marked with its number.
    assert!(page.body.contains("<strong>23</strong> steps in 5 phases"));
    for step in 1..=23 {
        assert!(
            page.body.contains(&format!("<tr data-step=\"{step}\">")),
            "{step}"
        );
    }
    for namespace in ["namespace-a", "namespace-b", "internal"] {
        assert!(
            page.body.contains(&format!(
                "<th colspan=\"5\" scope=\"rowgroup\">{namespace}</th>"
            )),
            "{namespace}"
        );
    }
    for service in ["agent-b", "internal-iam", "agent-a", "service-a2"] {
        assert!(
            page.body
                .contains(&format!("<td class=\"service\">{service}</td>")),
            "{service}"
        );
    }

    // ...and logged under the request id by the program that performed it: steps 10 to 23 of
    // this request, steps 1, 2, 6, 7, 8 and 9 of the login (3 to 5 are the browser's own
    // requests at the IAM, logged under their ids).
    let chat: Vec<u8> = STEPS
        .for_request(&request_id)
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Ok | Outcome::Cached))
        .map(|e| e.step.number())
        .collect();
    for step in 10..=23 {
        assert!(chat.contains(&step), "step {step} in {chat:?}");
    }
    let login: Vec<u8> = STEPS
        .for_request(&login_request_id)
        .iter()
        .map(|e| e.step.number())
        .collect();
    for step in [1, 2, 6, 7, 8, 9] {
        assert!(login.contains(&step), "step {step} in {login:?}");
    }
}

#[tokio::test]
async fn bob_sees_his_orders_and_carol_is_stopped_at_the_web_app() {
    let env = real_chain().await;
    let bob = Browser::new();
    env.login(&bob, "bob").await;
    let page = env.chat(&bob, "Show my orders").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Your orders"));
    assert!(page.body.contains("B-2001"), "bob's order");
    assert!(!page.body.contains("A-1001"), "not alice's");

    let carol = Browser::new();
    env.login(&carol, "carol").await;
    let page = carol.get(&env.url("/chat")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}
