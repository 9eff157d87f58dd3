//! The same server on PostgreSQL, when `TEST_POSTGRES_URL` names a server the test may create
//! a database on: the migrations, registrations, keys and audit work on both backends.

use internal_iam::audit::{self, AuditQuery, Outcome};
use storage::Backend;
use workload_identity::workloads::AGENT_B;

use crate::support::TestIam;
use crate::support::iam::{CROSS_NS, SERVICE_A};

/// A fresh database on the server named by `TEST_POSTGRES_URL`, or `None` outside CI without one.
async fn fresh_database() -> Option<String> {
    storage::testing::scratch_postgres_url("internal_iam_test")
        .await
        .unwrap()
}

#[tokio::test]
async fn issuance_refusal_and_audit_on_postgresql() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let iam = TestIam::start_on(Some(url)).await;
    assert_eq!(iam.handles.db.backend(), Backend::Postgres);
    let client = iam.client(AGENT_B);
    let params = [
        ("grant_type", "client_credentials"),
        ("audience", SERVICE_A),
        ("scope", CROSS_NS),
    ];
    let body = iam.token(&client, &params).await;
    let claims = iam
        .verify_service_token(body["access_token"].as_str().unwrap())
        .await;
    let refused = iam.refused(&client, &[("grant_type", "password")]).await;
    assert_eq!(refused.error, "unsupported_grant_type");
    iam.handles.audit.flush().await;
    let issued = audit::list(
        &iam.handles.db,
        &AuditQuery {
            outcome: Some(Outcome::Issued),
            ..AuditQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].jti.as_deref(), Some(claims.jti.as_str()));
    assert_eq!(iam.audit().await.len(), 2);
    iam.stop().await;
}
