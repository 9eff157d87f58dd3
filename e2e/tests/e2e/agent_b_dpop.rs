//! Agent B's resource-server checks of the customer's DPoP-bound token (design step 12), against
//! the real programs: the test runs the authorization code flow itself as the `web-app` client
//! (its own DPoP key, PKCE, the real sign-in forms) and calls Agent B over mutual TLS with the
//! web app's SVID, as the web app does.
//!
//! What RFC 9449 and RFC 6750 prescribe, each answered with `Cache-Control: no-store` and the
//! `DPoP` challenge naming the realm and the accepted algorithms (RFC 9449 §7.1):
//!
//! | request | answer |
//! |---|---|
//! | no `Authorization` at all | 401, the challenge alone, no error (RFC 6750 §3.1) |
//! | `Authorization: DPoP <token>` without a `DPoP` proof | 401 `invalid_dpop_proof`: a DPoP-scheme request must carry a proof (§7.1), and a missing or invalid one is this code, registered for resource access errors (§12.2) |
//! | the same proof a second time | 401 `invalid_dpop_proof`: a proof is good for one request (§11.1) |
//! | the bound token sent as `Authorization: Bearer`, with or without a proof | 401 `invalid_token`: a DPoP-bound token is never accepted as a bearer token (§7.2), and its binding is what failed (§7.1) |
//!
//! None of the refused requests gets past step 12: no intent, no token request at the internal
//! IAM (its audit trail shows only the control call's exchange).

use std::time::{Duration, Instant};

use e2e::Program;
use e2e::direct::{
    AgentBClient, CustomerToken, Reply, chat_headers, customer_token, request_context,
};
use e2e::kit::{AuditQuery, TestEnv};
use http::StatusCode;
use telemetry::RequestContext;
use wire::chat::{ChatResponse, Records};
use wire::grant_types::GrantType;
use wire::steps;
use wire::{ErrorCode, Outcome};
use workload_identity::workloads;

use e2e::kit::DemoRecords;

#[tokio::test]
async fn agent_b_refuses_a_missing_replayed_or_downgraded_dpop_presentation() {
    let env = TestEnv::start().await;
    let alice = customer_token(&env, "alice").await;
    let agent_b = AgentBClient::new(&env, workloads::WEB_APP);
    let dpop = format!("DPoP {}", alice.access_token);
    let bearer = format!("Bearer {}", alice.access_token);
    let mut refused: Vec<RequestContext> = Vec::new();

    // No credentials: the challenge alone.
    let context = request_context();
    let reply = agent_b
        .post(chat_headers(None, None, &context), "What is my balance?")
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply}");
    let challenge = assert_dpop_challenge(&reply);
    assert_eq!(challenge.param("error"), None, "{reply}");
    assert!(reply.body.is_empty(), "{reply}");
    refused.push(context);

    // The DPoP scheme without a proof.
    let context = request_context();
    let reply = agent_b
        .post(
            chat_headers(Some(&dpop), None, &context),
            "What is my balance?",
        )
        .await;
    assert_refused(&reply, ErrorCode::InvalidDpopProof, "no DPoP header");
    refused.push(context);

    // A proof replayed: accepted once (a greeting, answered by Agent B alone), then refused.
    let proof = agent_b.proof(&alice);
    let first = agent_b
        .post(
            chat_headers(Some(&dpop), Some(&proof), &request_context()),
            "Hello",
        )
        .await;
    assert_eq!(
        first.status,
        StatusCode::OK,
        "the proof's first use: {first}"
    );
    let context = request_context();
    let reply = agent_b
        .post(
            chat_headers(Some(&dpop), Some(&proof), &context),
            "What is my balance?",
        )
        .await;
    assert_refused(&reply, ErrorCode::InvalidDpopProof, "already used");
    refused.push(context);

    // The DPoP-bound token downgraded to Bearer: with a fresh, valid proof by its key (a
    // confused client), and without one (a thief who has the token but not the key).
    for proof in [Some(agent_b.proof(&alice)), None] {
        let context = request_context();
        let reply = agent_b
            .post(
                chat_headers(Some(&bearer), proof.as_deref(), &context),
                "What is my balance?",
            )
            .await;
        assert_refused(&reply, ErrorCode::InvalidToken, "Bearer scheme");
        refused.push(context);
    }

    // Control, last: the same token presented as the web app presents it gets alice's records
    // through the whole chain.
    let answer = agent_b.chat(&alice, "What is my balance?").await;
    assert_alices_balance(&answer, &alice);

    // Nothing of the refused requests got past step 12.
    let ids: Vec<String> = refused.iter().map(|c| c.request_id.to_string()).collect();
    let events = env
        .wait_for_steps(|events| {
            ids.iter().all(|id| {
                events.iter().any(|e| {
                    &e.request_id == id
                        && e.step == steps::CUSTOMER_TOKEN_VALIDATED
                        && e.service == Program::AgentB.name()
                })
            })
        })
        .await;
    for id in &ids {
        let of_request: Vec<_> = events.iter().filter(|e| &e.request_id == id).collect();
        assert!(
            of_request.iter().any(
                |e| e.step == steps::CUSTOMER_TOKEN_VALIDATED && e.outcome == Outcome::Rejected
            ),
            "Agent B reports step 12 rejected for {id}: {of_request:#?}"
        );
        assert!(
            of_request.iter().all(|e| e.step.number() <= 12),
            "a refused request went past step 12: {of_request:#?}"
        );
    }
    // The IAM writes its audit rows in order: once the control call's exchange is on record,
    // any exchange before it would be too. There is exactly that one.
    let exchanges = wait_for_exchanges(&env, 1).await;
    assert_eq!(
        exchanges.len(),
        1,
        "one token exchange, the control call's: {exchanges:#?}"
    );
    assert_eq!(
        exchanges[0].request_id.as_deref(),
        Some(answer.request_id().as_str())
    );
}

/// 401, the `DPoP` challenge with `error` = `code` and a description naming the fault, the
/// same in the body, never cached.
#[track_caller]
fn assert_refused(reply: &Reply, code: ErrorCode, description: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply}");
    let challenge = assert_dpop_challenge(reply);
    assert_eq!(challenge.param("error"), Some(code.as_str()), "{reply}");
    let described = challenge.param("error_description").unwrap_or_default();
    assert!(described.contains(description), "{reply}");
    let body: serde_json::Value = reply.json();
    assert_eq!(body["error"], code.as_str(), "{reply}");
    assert_eq!(body["error_description"], described, "{reply}");
}

/// The `DPoP` scheme (RFC 9449 §7.1) with Agent B's realm and its algorithms, `no-store`.
#[track_caller]
fn assert_dpop_challenge(reply: &Reply) -> e2e::direct::Challenge {
    let challenge = reply.challenge();
    assert!(challenge.is("DPoP"), "{reply}");
    assert_eq!(challenge.param("realm"), Some("agent-b"), "{reply}");
    let algs = challenge.param("algs").unwrap_or_default();
    assert!(algs.split(' ').any(|alg| alg == "ES256"), "{reply}");
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{reply}");
    challenge
}

#[track_caller]
fn assert_alices_balance(answer: &Reply, alice: &CustomerToken) {
    assert_eq!(answer.status, StatusCode::OK, "{answer}");
    let response: ChatResponse = answer.json();
    let data = response.data.expect("account data in the answer");
    let record = DemoRecords::shipped();
    let account = record.account_of(&alice.user);
    assert_eq!(data.subject, account.subject);
    let Records::Balance(money) = data.records else {
        panic!("not a balance: {answer}");
    };
    assert_eq!(money.amount_minor, account.balance.amount_minor);
    assert_eq!(money.currency, account.balance.currency);
}

/// Polls the IAM's audit until `count` token exchanges are on record (30 s at most); returns
/// what is there.
async fn wait_for_exchanges(env: &TestEnv, count: usize) -> Vec<e2e::kit::AuditRow> {
    let query = AuditQuery::issued(GrantType::TokenExchange);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = env.internal_iam_audit(&query).await;
        if rows.len() >= count || Instant::now() >= deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
