//! Steps 14–16 without a round trip per request: one cached service token, refreshed shortly
//! before it expires, one refresh for many concurrent requests, one kept-alive connection to the
//! IAM and one to Agent A.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use wire::GrantType;

use crate::support::{ALICE, BOB, TestEnv};

const CLIENT_CREDENTIALS: &str = GrantType::ClientCredentials.as_str();
const EXCHANGE: &str = GrantType::TokenExchange.as_str();

#[tokio::test]
async fn ten_chat_actions_cost_one_service_token_and_one_connection_each_way() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let alice = env.token(&web, ALICE);
    let bob = env.token(&web, BOB);
    for round in 0..10 {
        let token = if round % 2 == 0 { &alice } else { &bob };
        let reply = web.chat(token, "What is my balance?").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let expected = if round == 0 { "ok" } else { "cached" };
        assert_eq!(reply.step(14)["outcome"], expected, "round {round}");
    }
    assert_eq!(env.iam.issued(CLIENT_CREDENTIALS).await, 1);
    // The user context is per request.
    assert_eq!(env.iam.issued(EXCHANGE).await, 10);
    assert_eq!(env.iam_relay.connections(), 1);
    assert_eq!(env.agent_a_relay.connections(), 1);
    env.stop().await;
}

#[tokio::test]
async fn concurrent_first_requests_share_one_issuance() {
    let env = TestEnv::start().await;
    let web = Arc::new(env.web_app());
    let token = Arc::new(env.token(&web, ALICE));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (web, token) = (web.clone(), token.clone());
            tokio::spawn(async move { web.chat(&token, "What is my balance?").await })
        })
        .collect();
    let mut issued_here = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        if reply.step(14)["outcome"] == "ok" {
            issued_here += 1;
        }
    }
    assert_eq!(issued_here, 1);
    assert_eq!(env.iam.issued(CLIENT_CREDENTIALS).await, 1);
    assert_eq!(env.iam.issued(EXCHANGE).await, 8);
    // Nine token requests from eight concurrent chat actions, one connection.
    assert_eq!(env.iam_relay.connections(), 1);
    env.stop().await;
}

#[tokio::test]
async fn the_service_token_is_refreshed_a_minute_before_it_expires() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    assert_eq!(web.chat(&token, "balance").await.step(14)["outcome"], "ok");

    // Five-minute tokens are used for four minutes.
    env.clock.advance(239);
    assert_eq!(
        web.chat(&token, "balance").await.step(14)["outcome"],
        "cached"
    );
    env.clock.advance(1);
    // The IAM and Agent A judge tokens by the real time: the customer's token keeps real times.
    let real_now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let fresh = env.issuer.token_with(ALICE, &web.jkt(), |claims| {
        claims["iat"] = json!(real_now);
        claims["exp"] = json!(real_now + 600);
    });
    let reply = web.chat(&fresh, "balance").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.step(14)["outcome"], "ok");
    assert_eq!(env.iam.issued(CLIENT_CREDENTIALS).await, 2);
    env.stop().await;
}
