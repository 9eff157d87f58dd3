//! Service A2 answers only the peers on its allow-list (design step 19): Agent B, a workload of
//! the same trust domain with a valid SVID and a genuine user context for alice, calling it
//! directly to skip Agent A's checks gets `PERMISSION_DENIED` naming its SPIFFE ID. The same
//! request from Agent A's SVID is answered, so the peer is the only thing that was wrong.

use e2e::Program;
use e2e::direct::{self, InternalIamClient, customer_token, grpc, request_context};
use e2e::kit::TestEnv;
use tonic::Code;
use wire::chat::{AccountData, Records};
use wire::steps;
use wire::{Intent, Outcome};
use workload_identity::workloads;

use e2e::kit::DemoRecords;

#[tokio::test]
async fn service_a2_refuses_agent_b_calling_it_directly() {
    let env = TestEnv::start().await;
    let alice = customer_token(&env, "alice").await;
    let context = request_context();
    let user_context = InternalIamClient::new(&env, workloads::AGENT_B)
        .transaction_token(&alice.access_token, &context)
        .await;

    let agent_b = direct::spiffe_id(workloads::AGENT_B);
    let refused = request_context();
    let status = grpc::service_a2(&env, direct::identity(&env, workloads::AGENT_B))
        .get_records(grpc::records_request(
            Intent::Balance,
            &user_context,
            &refused,
        ))
        .await
        .expect_err("Agent B is not on Service A2's allow-list");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status.message().contains(agent_b.as_str()),
        "the refusal names the peer: {status:?}"
    );

    // Control: the same user context from Agent A's SVID.
    let answer = grpc::service_a2(&env, direct::identity(&env, workloads::AGENT_A))
        .get_records(grpc::records_request(
            Intent::Balance,
            &user_context,
            &request_context(),
        ))
        .await
        .expect("Agent A is allowed")
        .into_inner();
    let data = AccountData::try_from(answer.data.expect("records")).unwrap();
    let records = DemoRecords::shipped();
    let account = records.account_of("alice");
    assert_eq!(data.subject, account.subject);
    assert!(
        matches!(&data.records, Records::Balance(money) if money.amount_minor == account.balance.amount_minor),
        "{data:?}"
    );

    // The refusal is step 19, rejected; no records were read for it (no step 20).
    let id = refused.request_id.as_str().to_owned();
    let of_request = env.wait_for_step_of(&id, steps::PEER_AUTHORIZED).await;
    assert!(
        of_request.iter().any(|e| e.step == steps::PEER_AUTHORIZED
            && e.service == Program::ServiceA2.name()
            && e.outcome == Outcome::Rejected),
        "{of_request:#?}"
    );
    assert!(
        !of_request.iter().any(|e| e.step == steps::RECORDS_RETURNED),
        "{of_request:#?}"
    );
}
