//! Failing closed, and recovering by itself: with the internal IAM down, account questions get
//! 503 while local answers keep working; once it is back on the same port, everything works
//! again without restarting Agent B. Agent A down is a 503 too.

use wire::GrantType;

use crate::support::{ALICE, TestEnv};

const UNAVAILABLE: &str = "account data is unavailable right now: the internal token service \
                           cannot be reached. Please try again in a moment.";

#[tokio::test]
async fn the_iam_down_means_503_for_account_data_and_back_up_means_answers_again() {
    let mut env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    // One answer first: Agent A and Service A2 have then fetched the IAM's keys (while the IAM
    // is down they cannot, and their caches wait 30 s before trying again).
    assert_eq!(web.chat(&token, "What is my balance?").await.status, 200);

    // Down with a service token in the cache: the user context still needs the IAM.
    env.iam.stop().await;
    let reply = web.chat(&token, "What is my balance?").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.error(), "temporarily_unavailable");
    assert_eq!(reply.body["error_description"], UNAVAILABLE);
    assert_eq!(reply.step_numbers(), [12, 13, 14]);
    assert_eq!(reply.step(14)["outcome"], "failed");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let greeting = web.chat(&token, "Hello").await;
    assert_eq!(greeting.status, 200, "{}", greeting.body);

    env.iam.restart().await;
    let reply = web.chat(&token, "What is my balance?").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["answer"], "Your balance is 1,842.50 EUR.");
    assert_eq!(reply.step(14)["outcome"], "cached");

    // Down once the cached token has expired: neither token can be had.
    env.clock.advance(300);
    env.iam.stop().await;
    let reply = web.chat(&token, "What is my balance?").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.body["error_description"], UNAVAILABLE);
    assert_eq!(web.chat(&token, "thanks").await.status, 200);

    env.iam.restart().await;
    let reply = web.chat(&token, "What is my balance?").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.step(14)["outcome"], "ok");
    assert_eq!(
        env.iam.issued(GrantType::ClientCredentials.as_str()).await,
        2
    );
    env.stop().await;
}

#[tokio::test]
async fn agent_a_down_means_503() {
    let mut env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    env.chain.stop().await;
    let reply = web.chat(&token, "What is my balance?").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.error(), "temporarily_unavailable");
    assert_eq!(
        reply.body["error_description"],
        "account data is unavailable right now: Agent A cannot be reached. Please try again in \
         a moment."
    );
    assert_eq!(reply.step(17)["outcome"], "failed");
    assert_eq!(web.chat(&token, "hello").await.status, 200);
    env.stop().await;
}
