//! The chat actions that need account data: steps 12 to 22, each customer seeing only their own
//! records.

use crate::support::{ALICE, BOB, CAROL, TestEnv};

const AGENT_B: &str = "agent-b";
const IAM: &str = "internal-iam";
const AGENT_A: &str = "agent-a";
const A2: &str = "service-a2";

fn outline(steps: &[(u64, &str, &str)]) -> Vec<(u64, String, String)> {
    steps
        .iter()
        .map(|(step, service, outcome)| (*step, (*service).to_owned(), (*outcome).to_owned()))
        .collect()
}

#[tokio::test]
async fn alices_balance_question_returns_her_balance_and_steps_12_to_22() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    let call = web.call(&token, "What is my balance?");
    let context = call.context.clone().unwrap();
    let reply = web.send(call).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["answer"], "Your balance is 1,842.50 EUR.");
    assert_eq!(reply.body["data"]["subject"], ALICE);
    assert_eq!(reply.body["data"]["records"]["kind"], "balance");
    assert_eq!(reply.body["data"]["records"]["amount_minor"], 184_250);
    assert_eq!(reply.body["data"]["records"]["currency"], "EUR");
    assert_eq!(
        reply.outline(),
        outline(&[
            (12, AGENT_B, "ok"),
            (13, AGENT_B, "ok"),
            (14, AGENT_B, "ok"),
            (15, IAM, "ok"),
            (16, IAM, "ok"),
            (17, AGENT_A, "ok"),
            (18, AGENT_A, "ok"),
            (19, A2, "ok"),
            (20, A2, "ok"),
            (21, AGENT_A, "ok"),
            (22, AGENT_B, "ok"),
        ])
    );
    let step_12 = reply.step(12);
    let detail = step_12["detail"].as_str().unwrap();
    assert!(
        detail.contains("spiffe://demo.test/ns/namespace-a/sa/web-app"),
        "{detail}"
    );
    assert!(!detail.contains(&token), "the token itself never appears");
    assert_eq!(reply.step(13)["detail"], "account data: balance");

    // The request id came from X-Request-Context, goes back in X-Request-Id, and is the `txn` the
    // IAM wrote into the transaction token (its audit row of the exchange names it).
    let request_id = context.split('"').nth(1).unwrap();
    assert_eq!(reply.header("x-request-id"), Some(request_id));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let rows = env.iam.audit_rows().await;
    let exchange = rows
        .iter()
        .find(|row| row.grant_type.as_deref() == Some(wire::GrantType::TokenExchange.as_str()))
        .unwrap();
    assert_eq!(exchange.request_id.as_deref(), Some(request_id));
    assert_eq!(exchange.subject.as_deref(), Some(ALICE));
    assert_eq!(
        exchange.spiffe_id.as_deref(),
        Some("spiffe://demo.test/ns/namespace-b/sa/agent-b")
    );
    // Least privilege: the transaction token carries only the scope the chain acts on.
    assert_eq!(exchange.scope.as_deref(), Some("agent:invoke"));

    // The next action takes the service token from the cache: 14–16 say so.
    let again = web.chat(&token, "and my balance again?").await;
    assert_eq!(again.status, 200, "{}", again.body);
    for step in [14, 15, 16] {
        assert_eq!(again.step(step)["outcome"], "cached", "step {step}");
    }
    let detail = again.step(14)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("served from Agent B's cache"), "{detail}");
    env.stop().await;
}

#[tokio::test]
async fn orders_and_profile_are_answered_from_alices_records() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);

    let orders = web.chat(&token, "Show my recent orders").await;
    assert_eq!(orders.status, 200, "{}", orders.body);
    assert_eq!(
        orders.body["answer"],
        "You have 2 recent orders:\n\
         - A-1002 (2025-11-02): Hiking boots, size 38, 139.99 EUR, shipped\n\
         - A-1001 (2025-09-14): Noise-cancelling headphones, 249.00 EUR, delivered"
    );
    assert_eq!(orders.body["data"]["records"]["kind"], "orders");
    assert_eq!(orders.step(13)["detail"], "account data: orders");

    let profile = web.chat(&token, "What email do you have for me?").await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    assert_eq!(
        profile.body["answer"],
        "Your profile: Alice Martin, alice@example.test, a member since 2019-04-23."
    );
    env.stop().await;
}

#[tokio::test]
async fn bob_sees_his_own_records_and_never_alices() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let alice = env.token(&web, ALICE);
    let bob = env.token(&web, BOB);

    // Alice first, so the cached service token and the connections are warm with her request.
    assert_eq!(web.chat(&alice, "balance").await.status, 200);
    for message in ["What is my balance?", "my orders", "my profile"] {
        let reply = web.chat(&bob, message).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["data"]["subject"], BOB);
        let text = reply.body.to_string();
        for alices in ["Alice", "alice@", "A-1001", "A-1002", "1,842.50", "184250"] {
            assert!(!text.contains(alices), "{message}: {text}");
        }
    }
    let balance = web.chat(&bob, "balance please").await;
    assert_eq!(balance.body["answer"], "Your balance is 37.10 EUR.");
    env.stop().await;
}

#[tokio::test]
async fn a_customer_without_an_account_gets_404_with_the_timeline_so_far() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, CAROL);
    let reply = web.chat(&token, "What is my balance?").await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert_eq!(reply.error(), "no_account");
    assert_eq!(
        reply.body["error_description"],
        "no account data is held for this customer"
    );
    assert_eq!(reply.step_numbers(), [12, 13, 14, 15, 16, 17]);
    assert_eq!(reply.step(17)["outcome"], "failed");
    assert_eq!(reply.step(17)["detail"], "Agent A answered NotFound");
    env.stop().await;
}
