//! Step 19, the peer: any workload of the trust domain is authenticated by TLS, only those on
//! the allow-list are served, and everyone else is told who they are.

use tonic::Code;
use tonic::metadata::MetadataValue;
use wire::Intent;
use wire::grpc::service_a2::v1::service_a2_client::ServiceA2Client;
use workload_identity::workloads::{AGENT_A, AGENT_B, INTERNAL_IAM, WEB_APP};

use crate::support::ALICE;
use crate::support::a2::{TestA2, get, request};

#[tokio::test]
async fn agent_b_calling_service_a2_directly_is_permission_denied() {
    let a2 = TestA2::start().await;
    // Agent B holds a perfectly valid user context: being on the path is not enough.
    let alice = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-request-0100")
        .await;
    let mut client = a2.client(AGENT_B).await;
    let status = get(&mut client, request(Intent::Balance, Some(&alice)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        status.message(),
        "spiffe://demo.test/ns/namespace-b/sa/agent-b is not allowed to call Service A2 \
         (it is not on the allow-list)"
    );
}

#[tokio::test]
async fn every_workload_but_agent_a_is_refused_before_anything_else_is_read() {
    let a2 = TestA2::start().await;
    for workload in [WEB_APP, AGENT_B, INTERNAL_IAM] {
        let mut client = a2.client(workload).await;
        // No user context, no correlation ids: the peer check comes first.
        let mut bare = request(Intent::Balance, None);
        bare.metadata_mut().remove("x-request-id");
        bare.metadata_mut().remove("traceparent");
        let status = get(&mut client, bare).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{workload:?}");
        assert!(
            status.message().starts_with(a2.pki.id(workload).as_str()),
            "{status:?}"
        );
    }
}

#[tokio::test]
async fn the_allow_list_is_configuration() {
    let a2 = TestA2::start_with(|config| {
        config.allowed_peers = vec![
            workload_identity::SpiffeId::parse("spiffe://demo.test/ns/namespace-a/sa/web-app")
                .unwrap(),
        ];
    })
    .await;
    let alice = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-request-0101")
        .await;
    let mut web_app = a2.client(WEB_APP).await;
    assert!(
        get(&mut web_app, request(Intent::Balance, Some(&alice)))
            .await
            .is_ok()
    );
    let mut agent_a = a2.client(AGENT_A).await;
    let status = get(&mut agent_a, request(Intent::Balance, Some(&alice)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn an_svid_from_another_ca_never_gets_a_call_through() {
    let a2 = TestA2::start().await;
    let alice = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-request-0102")
        .await;
    // Agent A's SPIFFE ID, from a CA outside the trust bundle.
    let impostor = a2.pki.foreign_svid(&a2.pki.id(AGENT_A), "impostor");
    match a2.channel_as(impostor).await {
        Err(_) => {}
        // TLS 1.3 lets the client finish its handshake before the server has judged the client
        // certificate, so the channel may come up and the first call fail instead.
        Ok(channel) => {
            let status = get(
                &mut ServiceA2Client::new(channel),
                request(Intent::Balance, Some(&alice)),
            )
            .await
            .unwrap_err();
            assert_ne!(status.code(), Code::Ok);
            assert!(
                !matches!(
                    status.code(),
                    Code::PermissionDenied | Code::Unauthenticated | Code::NotFound
                ),
                "the call reached the service: {status:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_allowed_peer_must_send_correlation_ids() {
    let a2 = TestA2::start().await;
    let alice = a2
        .iam
        .user_context(AGENT_B, ALICE, "chat-request-0103")
        .await;
    let mut client = a2.client(AGENT_A).await;
    let mut missing = request(Intent::Balance, Some(&alice));
    missing.metadata_mut().remove("traceparent");
    missing.metadata_mut().remove("x-request-id");
    let status = get(&mut client, missing).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "x-request-id and traceparent are required on this internal call"
    );
    let mut malformed = request(Intent::Balance, Some(&alice));
    malformed
        .metadata_mut()
        .insert("x-request-id", MetadataValue::from_static("bad id"));
    let status = get(&mut client, malformed).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("invalid x-request-id"),
        "{status:?}"
    );
}
