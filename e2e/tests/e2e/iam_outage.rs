//! The internal IAM down: Agent B fails closed for what needs Agent A (503, no answer made up
//! from stale credentials), still answers what it can answer itself, and everything works again
//! once the IAM is back, without restarting anything else.

use e2e::Program;
use e2e::kit::TestEnv;
use http::StatusCode;
use wire::Outcome;
use wire::steps;

use e2e::kit::DemoRecords;

#[tokio::test]
async fn agent_b_fails_closed_while_the_internal_iam_is_down_and_recovers_after() {
    let env = TestEnv::start().await;
    let browser = env.browser();
    browser.login("alice").await;
    let balance = DemoRecords::shipped().account_of("alice").balance();
    // Agent B now holds a cached service token: the outage below is not hidden by a missing one.
    let before = browser.chat("What is my balance?").await;
    before.assert_status(StatusCode::OK, "before the outage");

    env.stop(Program::InternalIam).await;
    // Every chat action needs a fresh transaction token for the customer's context.
    let during = browser.chat("What is my balance?").await;
    during.assert_status(StatusCode::SERVICE_UNAVAILABLE, "while the IAM is down");
    assert!(
        !during.body.replace(',', "").contains(&balance),
        "no account data without the IAM"
    );
    let request_id = during.request_id();
    let events = env
        .wait_for_step_of(&request_id, steps::TOKENS_REQUESTED)
        .await;
    let step14 = events
        .iter()
        .find(|e| e.step == steps::TOKENS_REQUESTED)
        .expect("Agent B reports step 14");
    assert_eq!(step14.outcome, Outcome::Failed, "{step14:?}");
    assert!(
        !events.iter().any(|e| e.service == Program::AgentA.name()),
        "Agent A was not called"
    );

    let greeting = browser.chat("Hello").await;
    greeting.assert_status(StatusCode::OK, "a greeting Agent B answers itself");

    env.restart(Program::InternalIam).await;
    let after = browser.chat("What is my balance?").await;
    after.assert_status(StatusCode::OK, "after the IAM is back");
    assert!(after.body.replace(',', "").contains(&balance), "{after}");
}
