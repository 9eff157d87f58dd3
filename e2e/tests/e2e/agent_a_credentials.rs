//! Agent A's step 17 against the real programs: the service token must be bound to the
//! certificate of *this* connection (RFC 8705 §3, `cnf.x5t#S256`) and issued to the peer
//! (`sub`), and the user context must be the internal IAM's, unexpired, and minted for the peer
//! (`req_wl`). Each refusal is `UNAUTHENTICATED` with the reason, and reaches neither Service A2
//! nor the customer's records.
//!
//! The tokens are real: a service token and a transaction token the internal IAM issued to
//! Agent B's SVID over mutual TLS, from a customer token obtained through the real sign-in. The
//! bad ones differ from a real one in a single property (see `e2e::direct`'s signing helpers for
//! why the IAM's own key is read from its database to make them).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use e2e::Program;
use e2e::direct::{
    self, InternalIamClient, claims_of, customer_token, forge, grpc, iam_signing_keys,
    request_context, sign_as_internal_iam,
};
use e2e::kit::TestEnv;
use serde_json::Value;
use tonic::Code;
use wire::chat::{AccountData, Records};
use wire::steps;
use wire::{Intent, Outcome};
use workload_identity::workloads;
use workload_identity::{FileSource, IdentityFiles};

use e2e::kit::DemoRecords;

#[tokio::test]
async fn agent_a_refuses_replayed_service_tokens_and_bad_user_contexts() {
    let env = TestEnv::start().await;
    let alice = customer_token(&env, "alice").await;
    let iam = InternalIamClient::new(&env, workloads::AGENT_B);
    let issued_under = request_context();
    let service_token = iam.service_token(&issued_under).await;
    let user_context = iam
        .transaction_token(&alice.access_token, &issued_under)
        .await;

    let as_agent_b = grpc::agent_a(&env, direct::identity(&env, workloads::AGENT_B));
    let as_web_app = grpc::agent_a(&env, direct::identity(&env, workloads::WEB_APP));
    // Agent B's own SPIFFE ID in a second certificate from the same CA: the same identity,
    // another key. Only the certificate binding can tell it from Agent B.
    let twin_dir = tempfile::tempdir().unwrap();
    let as_agent_b_twin = grpc::agent_a(&env, agent_b_twin(&env, twin_dir.path()));
    let mut refused = Vec::new();

    // Agent B's tokens replayed by another workload over its own connection.
    for (caller, who) in [
        (&as_web_app, "the web app"),
        (&as_agent_b_twin, "Agent B's twin"),
    ] {
        let context = request_context();
        let status = caller
            .clone()
            .get_account_data(grpc::account_data_request(
                Intent::Balance,
                &service_token,
                &user_context,
                &context,
            ))
            .await
            .expect_err(who);
        assert_eq!(status.code(), Code::Unauthenticated, "{who}: {status:?}");
        assert!(
            status.message().contains("bound to another certificate"),
            "{who}: {status:?}"
        );
        refused.push(context);
    }

    // Bad user contexts, each with Agent B's valid service token over Agent B's connection.
    //
    // The programs run as separate processes on the real clock: no clock can be injected into
    // Agent A, and waiting for a real transaction token to expire is not a test. So the
    // expired one and the one naming another workload are signed here with the internal IAM's
    // real signing key, read from its database in the kit's state folder (the `signing_keys`
    // table, `pkcs8_b64`). Issuer, key, `kid`, `typ`, audience, customer and scope are the
    // IAM's own, copied from a token it issued: only the property under test is wrong, so
    // only that property can be why Agent A refuses. The forgery is the converse: the genuine
    // header and claims, signed by a key the IAM never had.
    let keys = iam_signing_keys(&env).await;
    let now = unix_now();
    let genuine = claims_of(&user_context);
    let mut expired = genuine.clone();
    // Ended nine minutes ago, well past any clock-skew allowance, after a lifetime of one
    // minute like the IAM's.
    expired.insert("iat".into(), Value::from(now - 10 * 60));
    expired.insert("exp".into(), Value::from(now - 9 * 60));
    let mut for_the_web_app = genuine.clone();
    let web_app = direct::spiffe_id(workloads::WEB_APP);
    for_the_web_app.insert("req_wl".into(), Value::from(web_app.as_str()));
    // Valid from now, for the IAM's lifetime: however long the steps above took on a loaded
    // machine, the requester is the only thing wrong with it.
    let lifetime = genuine["exp"].as_i64().unwrap() - genuine["iat"].as_i64().unwrap();
    for_the_web_app.insert("iat".into(), Value::from(now));
    for_the_web_app.insert("exp".into(), Value::from(now + lifetime));
    let other_workload = format!("the user context was issued to {web_app}");
    let cases = [
        (forge(&user_context), "the signature is not valid"),
        (sign_as_internal_iam(&keys, &expired), "expired"),
        (
            sign_as_internal_iam(&keys, &for_the_web_app),
            other_workload.as_str(),
        ),
    ];
    for (token, reason) in &cases {
        let context = request_context();
        let status = as_agent_b
            .clone()
            .get_account_data(grpc::account_data_request(
                Intent::Balance,
                &service_token,
                token,
                &context,
            ))
            .await
            .expect_err(reason);
        assert_eq!(status.code(), Code::Unauthenticated, "{reason}: {status:?}");
        assert!(status.message().contains(reason), "{reason}: {status:?}");
        refused.push(context);
    }

    // Control: a fresh user context with the same service token, from Agent B's SVID.
    let context = request_context();
    let user_context = iam.transaction_token(&alice.access_token, &context).await;
    let answer = as_agent_b
        .clone()
        .get_account_data(grpc::account_data_request(
            Intent::Balance,
            &service_token,
            &user_context,
            &context,
        ))
        .await
        .expect("the genuine call")
        .into_inner();
    let data = AccountData::try_from(answer.data.expect("records")).unwrap();
    let account = DemoRecords::shipped();
    let account = account.account_of("alice");
    assert_eq!(data.subject, account.subject);
    let Records::Balance(money) = data.records else {
        panic!("not a balance: {data:?}");
    };
    assert_eq!(money.amount_minor, account.balance.amount_minor);

    // Every refusal is Agent A's step 17, rejected; Service A2 never heard of them.
    let ids: Vec<String> = refused
        .iter()
        .map(|c| c.request_id.as_str().to_owned())
        .collect();
    let events = env
        .wait_for_steps(|events| {
            ids.iter().all(|id| {
                events
                    .iter()
                    .any(|e| &e.request_id == id && e.step == steps::CALLER_VERIFIED)
            })
        })
        .await;
    for id in &ids {
        let of_request: Vec<_> = events.iter().filter(|e| &e.request_id == id).collect();
        assert!(
            of_request.iter().any(|e| e.step == steps::CALLER_VERIFIED
                && e.service == Program::AgentA.name()
                && e.outcome == Outcome::Rejected),
            "Agent A reports step 17 rejected for {id}: {of_request:#?}"
        );
        assert!(
            of_request
                .iter()
                .all(|e| e.service != Program::ServiceA2.name() && e.step.number() <= 17),
            "a refused call went past step 17: {of_request:#?}"
        );
    }
}

/// An SVID for Agent B's SPIFFE ID issued now by the system's CA, with its own key, in `dir`.
fn agent_b_twin(
    env: &TestEnv,
    dir: &std::path::Path,
) -> std::sync::Arc<dyn workload_identity::IdentitySource> {
    let pki = env.pki();
    let bundle = std::fs::read_to_string(pki.bundle()).unwrap();
    let ca_key = std::fs::read_to_string(pki.ca_key()).unwrap();
    let ca = dev_pki::Ca::from_pem(&e2e::dev_trust_domain(), &bundle, &ca_key).unwrap();
    let twin = ca
        .issue(&dev_pki::LeafSpec::svid(
            &direct::spiffe_id(workloads::AGENT_B),
            SystemTime::now(),
            Duration::from_secs(3600),
        ))
        .unwrap();
    twin.write_to(&dir.join("agent-b")).unwrap();
    std::fs::copy(pki.bundle(), dir.join(workload_identity::BUNDLE_FILE)).unwrap();
    FileSource::load(IdentityFiles::in_pki_dir(dir, "agent-b")).unwrap()
}

fn unix_now() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(now.as_secs()).unwrap()
}
