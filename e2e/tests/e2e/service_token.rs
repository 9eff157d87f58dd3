//! Agent B keeps its service token until shortly before it expires: ten chat actions in a row
//! cost one `client_credentials` issuance at the internal IAM, and ten token exchanges (the
//! customer's context is per request), as the IAM's own audit trail records.

use std::time::{Duration, Instant};

use e2e::kit::{AuditQuery, TestEnv};
use http::StatusCode;
use wire::grant_types::GrantType;
use workload_identity::workloads;

const ACTIONS: usize = 10;

#[tokio::test]
async fn ten_chat_actions_cost_one_client_credentials_issuance() {
    let env = TestEnv::start().await;
    let browser = env.browser();
    browser.login("bob").await;
    for n in 0..ACTIONS {
        let answer = browser.chat("What is my balance?").await;
        answer.assert_status(StatusCode::OK, &format!("chat action {n}"));
    }

    // The IAM writes audit rows in the background, in the order it queued them. Once all ten
    // exchanges are on record, so is every service-token issuance queued before the last one.
    let exchanges = AuditQuery::issued(GrantType::TokenExchange);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let written = env.internal_iam_audit(&exchanges).await.len();
        if written >= ACTIONS || Instant::now() >= deadline {
            assert_eq!(written, ACTIONS, "one token exchange per chat action");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let issued = env
        .internal_iam_audit(&AuditQuery::issued(GrantType::ClientCredentials))
        .await;
    assert_eq!(issued.len(), 1, "service tokens issued: {issued:#?}");
    let agent_b = workloads::AGENT_B.spiffe_id(&e2e::dev_trust_domain());
    assert_eq!(issued[0].spiffe_id.as_deref(), Some(agent_b.as_str()));
    assert_eq!(
        issued[0].audience.as_deref(),
        Some(wire::audiences::AGENT_SERVICE_A)
    );
    assert_eq!(
        issued[0].scope.as_deref(),
        Some(wire::scopes::CROSS_NAMESPACE_INVOKE)
    );
    assert!(
        env.internal_iam_audit(&AuditQuery::refused())
            .await
            .is_empty(),
        "nothing was refused"
    );
}
