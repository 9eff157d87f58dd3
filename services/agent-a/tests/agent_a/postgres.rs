//! The audit trail on PostgreSQL, when `TEST_POSTGRES_URL` names a server the test may create a
//! database on: the migrations and the audit writer work on both backends.

use storage::{Backend, Database};
use tonic::Code;
use wire::Intent;
use workload_identity::workloads::{AGENT_B, WEB_APP};

use crate::support::ALICE;
use crate::support::agent::{TestEnv, call, request};

/// A fresh database on the server named by `TEST_POSTGRES_URL`, or `None` outside CI without one.
async fn fresh_database() -> Option<String> {
    storage::testing::scratch_postgres_url("agent_a_test")
        .await
        .unwrap()
}

#[tokio::test]
async fn the_audit_trail_is_written_to_postgresql() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let env = TestEnv::start_with(|config| {
        config.database_url = agent_a::DatabaseUrl::new(url.clone());
    })
    .await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-pg-000000001").await;
    for (workload, expected) in [(AGENT_B, Code::Ok), (WEB_APP, Code::Unauthenticated)] {
        let mut client = env.client(workload).await;
        let outcome = call(
            &mut client,
            request(
                Intent::Balance,
                Some(&service_token),
                Some(&user_context),
                "chat-pg-000000001",
            ),
        )
        .await;
        assert_eq!(
            outcome.map_or_else(|status| status.code(), |_| Code::Ok),
            expected
        );
    }
    let rows = env.audit_rows().await;
    let decisions: Vec<_> = rows.iter().map(|row| row.decision.as_str()).collect();
    assert_eq!(decisions, ["allowed", "refused"]);
    assert_eq!(rows[0].subject.as_deref(), Some(ALICE));
    let db = Database::connect(&url).await.unwrap();
    assert_eq!(db.backend(), Backend::Postgres);
    assert_eq!(agent_a::audit::list(&db).await.unwrap(), rows);
    env.stop().await;
}
