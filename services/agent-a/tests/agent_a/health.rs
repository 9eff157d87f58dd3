//! Readiness, and a graceful stop that keeps the audit trail complete.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use wire::Intent;
use workload_identity::workloads::AGENT_B;

use crate::support::ALICE;
use crate::support::agent::{TestEnv, call, request};

#[tokio::test]
async fn the_health_listener_answers_ok() {
    let env = TestEnv::start().await;
    let mut probe = tokio::net::TcpStream::connect(env.health).await.unwrap();
    probe
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: agent-a\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    probe.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
}

#[tokio::test]
async fn a_stopped_agent_has_written_every_audit_row() {
    let env = TestEnv::start().await;
    let (service_token, user_context) = env.agent_b_tokens(ALICE, "chat-stop-00000001").await;
    let mut client = env.client(AGENT_B).await;
    for _ in 0..5 {
        call(
            &mut client,
            request(
                Intent::Balance,
                Some(&service_token),
                Some(&user_context),
                "chat-stop-00000001",
            ),
        )
        .await
        .unwrap();
    }
    drop(client);
    let stopped = env.stop().await;
    let rows = agent_a::audit::list(&stopped.db).await.unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|row| row.decision == "allowed"));
}
