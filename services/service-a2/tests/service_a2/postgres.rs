//! The same service on PostgreSQL, when `TEST_POSTGRES_URL` names a server the test may create a
//! database on: the migrations, the seeding and every query work on both backends.

use storage::{Backend, Database};
use wire::Intent;
use wire::grpc::account::v1::account_data::Records;
use workload_identity::workloads::{AGENT_A, AGENT_B};

use crate::support::a2::{TestA2, get, request};
use crate::support::{ALICE, CAROL};

/// A fresh database on the server named by `TEST_POSTGRES_URL`, or `None` outside CI without one.
async fn fresh_database() -> Option<String> {
    storage::testing::scratch_postgres_url("service_a2_test")
        .await
        .unwrap()
}

#[tokio::test]
async fn records_are_seeded_and_served_from_postgresql() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let a2 = TestA2::start_with(|config| {
        config.database_url = service_a2::DatabaseUrl::new(url.clone());
    })
    .await;
    let db = Database::connect(&url).await.unwrap();
    assert_eq!(db.backend(), Backend::Postgres);
    // Seeding again on the same database changes nothing.
    let file = service_a2::records::seed::DataFile::read(&crate::support::a2::seed_file()).unwrap();
    file.seed(&db).await.unwrap();

    let alice = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-pg-000000001")
        .await;
    let mut client = a2.client(AGENT_A).await;
    for intent in [Intent::Balance, Intent::Orders, Intent::Profile] {
        let response = get(&mut client, request(intent, Some(&alice)))
            .await
            .unwrap();
        let data = response.data.unwrap();
        assert_eq!(data.subject, ALICE);
        if let Some(Records::Orders(orders)) = &data.records {
            assert_eq!(orders.orders.len(), 2);
        }
    }
    let carol = a2
        .iam
        .user_context(AGENT_B, CAROL, "chat-pg-000000002")
        .await;
    let status = get(&mut client, request(Intent::Orders, Some(&carol)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    a2.stop().await;
}
