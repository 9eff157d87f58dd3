//! The axum server over mutual TLS, called with reqwest configured by `client_config`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, Version};
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, oneshot};
use tower::ServiceExt as _;
use workload_identity::workloads::{AGENT_A, AGENT_B};
use workload_identity::{
    ClientAlpn, IdentitySource as _, MtlsAcceptor, PeerIdentity, PeerPolicy, client_config,
    server_config,
};

use crate::support::pki::TestPki;
use crate::support::web::{WebServer, reqwest_client, whoami};

/// Agent A serving, Agent B calling: the pair of the design's gRPC hop, over HTTPS here.
fn configs(pki: &TestPki) -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let server = server_config(pki.source(AGENT_A), PeerPolicy::only(pki.id(AGENT_B))).unwrap();
    let client = client_config(
        pki.source(AGENT_B),
        PeerPolicy::only(pki.id(AGENT_A)),
        ClientAlpn::Http,
    )
    .unwrap();
    (server, client)
}

#[tokio::test]
async fn the_handler_sees_the_clients_spiffe_id_and_thumbprint_over_http2() {
    let pki = TestPki::new();
    let (server_tls, client_tls) = configs(&pki);
    let server = WebServer::start(server_tls).await;

    let (seen, version) = whoami(&reqwest_client(&client_tls), &server).await.unwrap();
    assert_eq!(version, Version::HTTP_2);
    assert_eq!(seen.spiffe_id, pki.id(AGENT_B).to_string());
    assert_eq!(
        seen.x5t_s256,
        tokens::thumbprint::x5t_s256(&pki.leaf(AGENT_B))
    );
    assert!(seen.remote.starts_with("127.0.0.1:"), "{}", seen.remote);
    server.stop().await;
}

#[tokio::test]
async fn http1_clients_are_served_too() {
    let pki = TestPki::new();
    let (server_tls, client_tls) = configs(&pki);
    let server = WebServer::start(server_tls).await;

    let mut http1_only = (*client_tls).clone();
    http1_only.alpn_protocols = vec![b"http/1.1".to_vec()];
    let (seen, version) = whoami(&reqwest_client(&http1_only), &server).await.unwrap();
    assert_eq!(version, Version::HTTP_11);
    assert_eq!(seen.spiffe_id, pki.id(AGENT_B).to_string());
    server.stop().await;
}

#[tokio::test]
async fn without_the_mtls_server_the_extractor_answers_401() {
    let router = Router::new().route(
        "/whoami",
        get(|peer: PeerIdentity| async move { peer.spiffe_id().to_string() }),
    );
    let response = router
        .oneshot(Request::get("/whoami").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_stalled_handshake_is_cut_off_without_blocking_other_clients() {
    let pki = TestPki::new();
    let (server_tls, client_tls) = configs(&pki);
    let acceptor = MtlsAcceptor::new(server_tls).with_handshake_timeout(Duration::from_millis(200));
    let server = WebServer::start_with(acceptor, crate::support::web::whoami_router()).await;

    // Connects and never says hello.
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    // Meanwhile a real client is served.
    let (seen, _) = whoami(&reqwest_client(&client_tls), &server).await.unwrap();
    assert_eq!(seen.spiffe_id, pki.id(AGENT_B).to_string());
    // The server closes the stalled socket when the deadline passes (the outer timeout only
    // bounds a failing test).
    let mut buffer = [0; 1];
    let read = tokio::time::timeout(Duration::from_secs(10), stalled.read(&mut buffer))
        .await
        .expect("the stalled connection was never closed");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish_then_stops_listening() {
    let pki = TestPki::new();
    let (server_tls, client_tls) = configs(&pki);
    let (entered, handler_entered) = oneshot::channel::<()>();
    let (release, released) = oneshot::channel::<()>();
    let entered = Arc::new(Mutex::new(Some(entered)));
    let released = Arc::new(Mutex::new(Some(released)));
    let router = Router::new().route(
        "/slow",
        get(move |peer: PeerIdentity| async move {
            if let Some(entered) = entered.lock().await.take() {
                entered.send(()).unwrap();
            }
            if let Some(released) = released.lock().await.take() {
                released.await.unwrap();
            }
            peer.spiffe_id().to_string()
        }),
    );
    let server = WebServer::start_with(MtlsAcceptor::new(server_tls), router).await;
    let addr = server.addr;
    let client = reqwest_client(&client_tls);
    let url = server.url("/slow");
    let request = tokio::spawn(async move { client.get(url).send().await?.text().await });

    handler_entered.await.unwrap();
    let stopping = tokio::spawn(server.stop());
    // Once the listener is closed the server is shutting down, with the request still open.
    tokio::time::timeout(Duration::from_secs(10), async {
        while TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the listener stayed open after shutdown");
    release.send(()).unwrap();
    assert_eq!(request.await.unwrap().unwrap(), pki.id(AGENT_B).to_string());
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_server_configuration_without_client_authentication_serves_no_one() {
    let pki = TestPki::new();
    let (_, client_tls) = configs(&pki);
    // Not built by `server_config`: rustls would complete handshakes without a client
    // certificate, and the accept loop must then refuse the connection itself.
    let identity = pki.source(AGENT_A).current();
    let key = std::fs::read(pki.files(AGENT_A).key).unwrap();
    let key = rustls_pki_types::pem::PemObject::from_pem_slice(&key).unwrap();
    let lax = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![identity.leaf().clone()], key)
    .unwrap();
    let server = WebServer::start(Arc::new(lax)).await;

    let error = whoami(&reqwest_client(&client_tls), &server)
        .await
        .err()
        .unwrap();
    assert!(error.is_request() || error.is_connect(), "{error:?}");
    server.stop().await;
}
