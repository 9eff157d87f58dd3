//! Readiness on the plain health listener.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::TestEnv;

#[tokio::test]
async fn the_health_listener_answers_ok() {
    let env = TestEnv::start().await;
    let mut probe = tokio::net::TcpStream::connect(env.health).await.unwrap();
    probe
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: agent-b\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    probe.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
    env.stop().await;
}
