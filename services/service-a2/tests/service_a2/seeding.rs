//! The data file: seeded idempotently, authoritative for the accounts it lists only.

use service_a2::records::seed::DataFile;
use service_a2::records::{Records, RecordsError};
use storage::Database;
use wire::Intent;
use wire::grpc::account::v1::account_data;

use crate::support::a2::seed_file;
use crate::support::{ALICE, BOB};

async fn database(dir: &tempfile::TempDir) -> Database {
    let db = Database::connect(&format!("sqlite://{}", dir.path().join("a2.db").display()))
        .await
        .unwrap();
    db.migrate(&service_a2::MIGRATOR).await.unwrap();
    db
}

async fn count(db: &Database, table: &str) -> i64 {
    use sqlx::Row as _;
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

async fn balance(records: &Records, subject: &str) -> i64 {
    match records
        .for_intent(subject, Intent::Balance)
        .await
        .unwrap()
        .records
    {
        Some(account_data::Records::Balance(balance)) => balance.amount_minor,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn seeding_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let file = DataFile::read(&seed_file()).unwrap();
    assert_eq!(file.seed(&db).await.unwrap(), 2);
    let (accounts, orders) = (count(&db, "accounts").await, count(&db, "orders").await);
    file.seed(&db).await.unwrap();
    assert_eq!(count(&db, "accounts").await, accounts);
    assert_eq!(count(&db, "orders").await, orders);
    assert_eq!(accounts, 2);
}

#[tokio::test]
async fn the_file_replaces_the_accounts_it_lists_and_leaves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    DataFile::read(&seed_file())
        .unwrap()
        .seed(&db)
        .await
        .unwrap();
    let records = Records::new(db.clone());
    let bob_before = balance(&records, BOB).await;

    // A later file: alice only, a new balance and a single order.
    let mut later = DataFile::read(&seed_file()).unwrap();
    later.accounts.retain(|account| account.subject == ALICE);
    later.accounts[0].balance.amount_minor = 1;
    later.accounts[0].orders.truncate(1);
    later.validate().unwrap();
    later.seed(&db).await.unwrap();

    assert_eq!(balance(&records, ALICE).await, 1);
    let orders = records.for_intent(ALICE, Intent::Orders).await.unwrap();
    let Some(account_data::Records::Orders(orders)) = orders.records else {
        panic!("{orders:?}")
    };
    assert_eq!(orders.orders.len(), 1);
    assert_eq!(balance(&records, BOB).await, bob_before);
    assert!(matches!(
        records.for_intent("nobody", Intent::Profile).await,
        Err(RecordsError::NoAccount)
    ));
}
