//! Step 20: the verified customer's records, and only theirs.

use service_a2::records::seed::{AccountSeed, DataFile};
use tonic::Code;
use wire::grpc::account::v1::account_data::Records;
use wire::{Intent, Outcome};
use workload_identity::workloads::{AGENT_A, AGENT_B};

use crate::support::a2::{TestA2, get, request, seed_file};
use crate::support::{ALICE, BOB, CAROL};

fn seeded(subject: &str) -> AccountSeed {
    DataFile::read(&seed_file())
        .unwrap()
        .accounts
        .into_iter()
        .find(|account| account.subject == subject)
        .unwrap()
}

/// What Service A2 answers `subject`'s user context with, for each intent.
async fn answers(a2: &TestA2, subject: &str) -> (Records, Records, Records) {
    let user_context = a2
        .iam
        .user_context(AGENT_B, subject, "chat-request-0001")
        .await;
    let mut client = a2.client(AGENT_A).await;
    let mut records = Vec::new();
    for intent in [Intent::Balance, Intent::Orders, Intent::Profile] {
        let response = get(&mut client, request(intent, Some(&user_context)))
            .await
            .unwrap();
        let data = response.data.unwrap();
        // Every answer names the customer it was selected by.
        assert_eq!(data.subject, subject);
        let steps: Vec<_> = response
            .steps
            .iter()
            .map(|step| (step.step, step.service.as_str(), step.checked().unwrap().1))
            .collect();
        assert_eq!(
            steps,
            [
                (19, "service-a2", Outcome::Ok),
                (20, "service-a2", Outcome::Ok)
            ]
        );
        records.push(data.records.unwrap());
    }
    let profile = records.pop().unwrap();
    let orders = records.pop().unwrap();
    let balance = records.pop().unwrap();
    (balance, orders, profile)
}

#[tokio::test]
async fn each_customer_gets_their_own_records_and_never_anothers() {
    let a2 = TestA2::start().await;
    for subject in [ALICE, BOB] {
        let expected = seeded(subject);
        let (balance, orders, profile) = answers(&a2, subject).await;
        let Records::Balance(balance) = balance else {
            panic!("{balance:?}")
        };
        assert_eq!(balance.amount_minor, expected.balance.amount_minor);
        assert_eq!(balance.currency, expected.balance.currency);
        let Records::Orders(orders) = orders else {
            panic!("{orders:?}")
        };
        // Newest first.
        let mut expected_orders: Vec<_> = expected.orders.iter().collect();
        expected_orders.sort_by(|a, b| b.placed_on.cmp(&a.placed_on));
        let ids: Vec<_> = orders.orders.iter().map(|o| o.order_id.as_str()).collect();
        let expected_ids: Vec<_> = expected_orders
            .iter()
            .map(|o| o.order_id.as_str())
            .collect();
        assert_eq!(ids, expected_ids);
        assert_eq!(orders.orders[0].total_minor, expected_orders[0].total_minor);
        let Records::Profile(profile) = profile else {
            panic!("{profile:?}")
        };
        assert_eq!(profile.display_name, expected.display_name);
        assert_eq!(profile.email, expected.email);
        assert_eq!(profile.member_since, expected.member_since);
    }
    // The demo data tells the two apart, so the test above could not pass by accident.
    let (alice, bob) = (seeded(ALICE), seeded(BOB));
    assert_ne!(alice.balance, bob.balance);
    assert_ne!(alice.display_name, bob.display_name);
    a2.stop().await;
}

#[tokio::test]
async fn a_customer_without_an_account_is_not_found() {
    let a2 = TestA2::start().await;
    let carol = a2
        .iam
        .user_context(AGENT_B, CAROL, "chat-request-0002")
        .await;
    let mut client = a2.client(AGENT_A).await;
    for intent in [Intent::Balance, Intent::Orders, Intent::Profile] {
        let status = get(&mut client, request(intent, Some(&carol)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(status.message(), "no account is held for this customer");
    }
}

#[tokio::test]
async fn a_request_without_an_intent_is_invalid() {
    let a2 = TestA2::start().await;
    let alice = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-request-0003")
        .await;
    let mut client = a2.client(AGENT_A).await;
    let status = get(&mut client, request(Intent::Unspecified, Some(&alice)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "intent is required");
    let mut unknown = request(Intent::Balance, Some(&alice));
    unknown.get_mut().intent = 42;
    let status = get(&mut client, unknown).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "intent 42 is not known");
}
