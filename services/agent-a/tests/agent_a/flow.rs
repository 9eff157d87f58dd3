//! Steps 17 to 21 end to end: the verified customer's records come back with every hop's steps,
//! over one reused channel to Service A2.

use service_a2::records::seed::DataFile;
use tonic::Code;
use wire::grpc::account::v1::account_data::Records;
use wire::{Intent, Outcome};
use workload_identity::workloads::AGENT_B;

use crate::support::agent::{TestEnv, call, request};
use crate::support::{ALICE, BOB, CAROL};

fn seeded_balance(subject: &str) -> i64 {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/data/service-a2.toml");
    DataFile::read(&path)
        .unwrap()
        .accounts
        .into_iter()
        .find(|account| account.subject == subject)
        .unwrap()
        .balance
        .amount_minor
}

#[tokio::test]
async fn each_customer_gets_their_own_records_with_the_steps_of_every_hop() {
    let env = TestEnv::start().await;
    let mut client = env.client(AGENT_B).await;
    for (subject, request_id) in [(ALICE, "chat-alice-000001"), (BOB, "chat-bob-00000001")] {
        let (service_token, user_context) = env.agent_b_tokens(subject, request_id).await;
        let response = call(
            &mut client,
            request(
                Intent::Balance,
                Some(&service_token),
                Some(&user_context),
                request_id,
            ),
        )
        .await
        .unwrap();
        let data = response.data.unwrap();
        assert_eq!(data.subject, subject);
        let Some(Records::Balance(balance)) = data.records else {
            panic!("{:?}", data.records)
        };
        assert_eq!(balance.amount_minor, seeded_balance(subject));
        let steps: Vec<_> = response
            .steps
            .iter()
            .map(|step| (step.step, step.service.as_str(), step.checked().unwrap().1))
            .collect();
        assert_eq!(
            steps,
            [
                (17, "agent-a", Outcome::Ok),
                (18, "agent-a", Outcome::Ok),
                (19, "service-a2", Outcome::Ok),
                (20, "service-a2", Outcome::Ok),
                (21, "agent-a", Outcome::Ok),
            ]
        );
    }
    assert_ne!(seeded_balance(ALICE), seeded_balance(BOB));
    env.stop().await;
}

#[tokio::test]
async fn agent_a_reuses_one_connection_to_service_a2() {
    let env = TestEnv::start().await;
    // Lazy: nothing is dialled before the first call.
    assert_eq!(env.relay.connections(), 0);
    let mut client = env.client(AGENT_B).await;
    for (index, subject) in [ALICE, BOB, ALICE, BOB].into_iter().enumerate() {
        let request_id = format!("chat-reuse-{index:06}");
        let (service_token, user_context) = env.agent_b_tokens(subject, &request_id).await;
        for intent in [Intent::Balance, Intent::Orders, Intent::Profile] {
            call(
                &mut client,
                request(
                    intent,
                    Some(&service_token),
                    Some(&user_context),
                    &request_id,
                ),
            )
            .await
            .unwrap();
        }
    }
    // Twelve calls from four customers, one TLS connection to Service A2.
    assert_eq!(env.relay.connections(), 1);
}

#[tokio::test]
async fn a_customer_without_an_account_is_not_found() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(CAROL, "chat-carol-000001").await;
    let mut client = env.client(AGENT_B).await;
    let status = call(
        &mut client,
        request(
            Intent::Profile,
            Some(&service_token),
            Some(&user_context),
            "chat-carol-000001",
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(
        status.message(),
        "Service A2 answered NotFound: no account is held for this customer"
    );
}

#[tokio::test]
async fn an_unreachable_service_a2_is_unavailable_not_a_refusal() {
    // A port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let env = TestEnv::start_with(|config| {
        config.service_a2.url = format!("https://{closed}").parse().unwrap();
    })
    .await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-down-00000001").await;
    let mut client = env.client(AGENT_B).await;
    let status = call(
        &mut client,
        request(
            Intent::Balance,
            Some(&service_token),
            Some(&user_context),
            "chat-down-00000001",
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status
            .message()
            .starts_with("Service A2 answered Unavailable"),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_request_without_an_intent_is_invalid_after_authorization() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-intent-000001").await;
    let mut client = env.client(AGENT_B).await;
    let status = call(
        &mut client,
        request(
            Intent::Unspecified,
            Some(&service_token),
            Some(&user_context),
            "chat-intent-000001",
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "intent is required");
    // Nothing was forwarded.
    assert_eq!(env.relay.connections(), 0);
}
