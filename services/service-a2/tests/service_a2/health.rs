//! Readiness: the plain health listener, the TLS-level probe, and a graceful stop.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use workload_identity::workloads::WEB_APP;

use crate::support::a2::TestA2;

#[tokio::test]
async fn the_health_listener_answers_ok_and_the_service_stops_gracefully() {
    let a2 = TestA2::start().await;
    // What a probe sends: plain HTTP/1.1, no certificate.
    let mut probe = tokio::net::TcpStream::connect(a2.health).await.unwrap();
    probe
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: service-a2\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    probe.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
    // Any workload of the trust domain completes the handshake: the TLS-level probe.
    assert!(a2.channel_as(a2.pki.source(WEB_APP)).await.is_ok());
    a2.stop().await;
}
