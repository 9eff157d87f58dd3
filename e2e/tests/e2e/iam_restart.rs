//! The internal IAM stopped, then started again on the same port and database: a message that
//! needs Agent A gets a clear 503 (the web app's page; Agent B's JSON error
//! `temporarily_unavailable`, which is no verdict on the caller's credentials, so no challenge),
//! a message Agent B answers alone still works, and once the IAM is back everything works again
//! without restarting anything else. Recovery is polled with a deadline, never slept for.

use std::time::{Duration, Instant};

use e2e::Program;
use e2e::direct::{AgentBClient, CustomerToken, Reply, customer_token};
use e2e::kit::{Browser, Page, TestEnv};
use http::StatusCode;
use wire::chat::{ChatError, ChatResponse, Records};
use wire::steps;
use wire::{ErrorCode, Outcome};
use workload_identity::workloads;

use e2e::kit::DemoRecords;

const BALANCE: &str = "What is my balance?";
const GREETING: &str = "Hello";
/// How long the system may take to use the restarted IAM: generous for a loaded machine.
const RECOVERY: Duration = Duration::from_secs(90);

#[tokio::test]
async fn the_chain_fails_closed_without_the_internal_iam_and_recovers_when_it_is_back() {
    let env = TestEnv::start().await;
    let records = DemoRecords::shipped();
    // Alice through the web app, bob directly at Agent B with a token of his own.
    let alice = env.browser();
    alice.login("alice").await;
    let bob = customer_token(&env, "bob").await;
    let agent_b = AgentBClient::new(&env, workloads::WEB_APP);
    let alice_balance = records.account_of("alice").balance();
    let bob_balance = records.account_of("bob").balance.amount_minor;

    // Working, and Agent B holds a cached service token: the outage is not hidden by a
    // missing one.
    assert_web_balance(&alice.chat(BALANCE).await, &alice_balance);
    assert_direct_balance(&agent_b.chat(&bob, BALANCE).await, bob_balance);

    env.stop(Program::InternalIam).await;

    let page = alice.chat(BALANCE).await;
    page.assert_status(
        StatusCode::SERVICE_UNAVAILABLE,
        "the web app while the IAM is down",
    );
    assert!(
        page.body.contains(
            "Your account data is unavailable right now. Please try again in a few minutes."
        ),
        "{page}"
    );
    assert!(
        !page.body.replace(',', "").contains(&alice_balance),
        "{page}"
    );

    let reply = agent_b.chat(&bob, BALANCE).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply}");
    let error: ChatError = reply.json();
    assert_eq!(
        error.error,
        ErrorCode::TemporarilyUnavailable.as_str(),
        "{reply}"
    );
    assert!(
        error
            .error_description
            .as_deref()
            .is_some_and(|d| d.contains("the internal token service cannot be reached")),
        "{reply}"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{reply}");
    assert_eq!(reply.header("www-authenticate"), None, "{reply}");
    // Agent B failed its step 14 and stopped there: nothing was asked of Agent A.
    let request_id = reply.request_id();
    let of_request = env
        .wait_for_step_of(&request_id, steps::TOKENS_REQUESTED)
        .await;
    assert!(
        of_request
            .iter()
            .any(|e| e.step == steps::TOKENS_REQUESTED && e.outcome == Outcome::Failed),
        "{of_request:#?}"
    );
    assert!(
        of_request
            .iter()
            .all(|e| e.service != Program::AgentA.name() && e.step.number() <= 14),
        "{of_request:#?}"
    );

    // What Agent B answers by itself does not need the IAM.
    let page = alice.chat(GREETING).await;
    page.assert_status(StatusCode::OK, "a greeting while the IAM is down");
    let reply = agent_b.chat(&bob, GREETING).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    let answer: ChatResponse = reply.json();
    assert!(answer.answer.starts_with("Hello!"), "{reply}");
    assert_eq!(answer.data, None);

    // Back on the same port and database; nothing else is restarted.
    env.restart(Program::InternalIam).await;
    let page = poll(|| chat(&alice)).await;
    assert_web_balance(&page, &alice_balance);
    let reply = poll_direct(&agent_b, &bob).await;
    assert_direct_balance(&reply, bob_balance);
}

async fn chat(browser: &Browser) -> Page {
    browser.chat(BALANCE).await
}

/// Asks until the web app answers 200 or the deadline passes; returns the last page.
async fn poll<F, Fut>(ask: F) -> Page
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Page>,
{
    let deadline = Instant::now() + RECOVERY;
    loop {
        let page = ask().await;
        if page.status == StatusCode::OK || Instant::now() >= deadline {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asks Agent B until it answers 200 or the deadline passes; returns the last reply.
async fn poll_direct(agent_b: &AgentBClient, token: &CustomerToken) -> Reply {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let reply = agent_b.chat(token, BALANCE).await;
        if reply.status == StatusCode::OK || Instant::now() >= deadline {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[track_caller]
fn assert_web_balance(page: &Page, balance: &str) {
    page.assert_status(StatusCode::OK, "the balance through the web app");
    assert!(page.body.replace(',', "").contains(balance), "{page}");
}

#[track_caller]
fn assert_direct_balance(reply: &Reply, amount_minor: i64) {
    assert_eq!(reply.status, StatusCode::OK, "{reply}");
    let answer: ChatResponse = reply.json();
    let data = answer.data.expect("records");
    assert!(
        matches!(&data.records, Records::Balance(money) if money.amount_minor == amount_minor),
        "{reply}"
    );
}
