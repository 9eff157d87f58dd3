//! Step 13: messages that need no account data are answered by Agent B alone, and the timeline
//! says steps 13 to 21 were not needed.

use wire::GrantType;

use crate::support::{ALICE, TestEnv};

#[tokio::test]
async fn a_greeting_is_answered_locally_with_13_to_21_skipped() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    let reply = web.chat(&token, "Hello!").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body["answer"]
            .as_str()
            .unwrap()
            .starts_with("Hello! I can tell you your account balance"),
        "{}",
        reply.body
    );
    assert!(reply.body.get("data").is_none(), "{}", reply.body);
    let expected: Vec<(u64, String, String)> = [
        (12, "agent-b", "ok"),
        (13, "agent-b", "skipped"),
        (14, "agent-b", "skipped"),
        (15, "internal-iam", "skipped"),
        (16, "internal-iam", "skipped"),
        (17, "agent-a", "skipped"),
        (18, "agent-a", "skipped"),
        (19, "service-a2", "skipped"),
        (20, "service-a2", "skipped"),
        (21, "agent-a", "skipped"),
        (22, "agent-b", "ok"),
    ]
    .iter()
    .map(|(step, service, outcome)| (*step, (*service).to_owned(), (*outcome).to_owned()))
    .collect();
    assert_eq!(reply.outline(), expected);
    assert_eq!(
        reply.step(13)["detail"],
        "a greeting, answered by Agent B without account data"
    );

    // Nothing went further: no token asked for, no connection to the IAM or Agent A.
    assert_eq!(
        env.iam.issued(GrantType::ClientCredentials.as_str()).await,
        0
    );
    assert_eq!(env.iam.issued(GrantType::TokenExchange.as_str()).await, 0);
    assert_eq!(env.iam_relay.connections(), 0);
    assert_eq!(env.agent_a_relay.connections(), 0);
    env.stop().await;
}

#[tokio::test]
async fn help_thanks_and_the_unknown_have_their_answers() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    for (message, starts) in [
        (
            "What can you do?",
            "I can answer questions about your balance",
        ),
        ("thanks!", "You're welcome!"),
        ("Is it going to rain?", "Sorry, I did not understand that."),
    ] {
        let reply = web.chat(&token, message).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let answer = reply.body["answer"].as_str().unwrap();
        assert!(answer.starts_with(starts), "{message}: {answer}");
        assert_eq!(reply.step(17)["outcome"], "skipped");
    }
    env.stop().await;
}
