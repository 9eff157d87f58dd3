//! tonic over the crate's mutual TLS: the server's incoming connections carry the peer into
//! each request, and a channel dials through `MtlsConnector`.
//!
//! The service is written by hand with a UTF-8 codec instead of generated protobuf code, so that
//! only the transport is under test.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf as _, BufMut as _};
use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::NamedService;
use tonic::transport::{Endpoint, Server};
use tonic::{Code, Status};
use workload_identity::workloads::{AGENT_A, AGENT_B, WEB_APP};
use workload_identity::{
    ClientAlpn, MtlsAcceptor, MtlsConnector, PeerIdentity, PeerPolicy, client_config, server_config,
};

use crate::support::pki::TestPki;

#[derive(Debug, Clone, Copy, Default)]
struct Utf8Codec;

impl Codec for Utf8Codec {
    type Encode = String;
    type Decode = String;
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        *self
    }

    fn decoder(&mut self) -> Self {
        *self
    }
}

impl Encoder for Utf8Codec {
    type Item = String;
    type Error = Status;

    fn encode(&mut self, item: String, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(item.as_bytes());
        Ok(())
    }
}

impl Decoder for Utf8Codec {
    type Item = String;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<String>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|error| Status::invalid_argument(error.to_string()))
    }
}

/// `/test.WhoAmI/*`: answers with the caller's SPIFFE ID and thumbprint, read from the request's
/// extensions as any tonic service would.
#[derive(Debug, Clone)]
struct WhoAmI;

impl NamedService for WhoAmI {
    const NAME: &'static str = "test.WhoAmI";
}

impl tower::Service<http::Request<tonic::body::Body>> for WhoAmI {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let method = tower::service_fn(|request: tonic::Request<String>| async move {
                let peer = request
                    .extensions()
                    .get::<PeerIdentity>()
                    .cloned()
                    .ok_or_else(|| Status::unauthenticated("no peer identity"))?;
                Ok::<_, Status>(tonic::Response::new(format!(
                    "{} {}",
                    peer.spiffe_id(),
                    peer.x5t_s256()
                )))
            });
            Ok(tonic::server::Grpc::new(Utf8Codec)
                .unary(method, request)
                .await)
        })
    }
}

struct GrpcServer {
    endpoint: Endpoint,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

async fn start(pki: &TestPki) -> GrpcServer {
    let tls = server_config(pki.source(AGENT_A), PeerPolicy::only(pki.id(AGENT_B))).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = MtlsAcceptor::new(tls).incoming(listener);
    let (shutdown, stop) = oneshot::channel::<()>();
    let task = tokio::spawn(
        Server::builder()
            .add_service(WhoAmI)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop.await;
            }),
    );
    GrpcServer {
        endpoint: Endpoint::from_shared(format!("https://{addr}")).unwrap(),
        shutdown,
        task,
    }
}

async fn call(channel: tonic::transport::Channel) -> Result<String, Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client
        .ready()
        .await
        .map_err(|error| Status::unavailable(error.to_string()))?;
    client
        .unary(
            tonic::Request::new(String::new()),
            PathAndQuery::from_static("/test.WhoAmI/Get"),
            Utf8Codec,
        )
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn the_service_sees_the_peer_identity_on_a_reused_channel() {
    let pki = TestPki::new();
    let server = start(&pki).await;
    let tls = client_config(
        pki.source(AGENT_B),
        PeerPolicy::only(pki.id(AGENT_A)),
        ClientAlpn::Grpc,
    )
    .unwrap();
    let channel = server
        .endpoint
        .connect_with_connector(MtlsConnector::new(tls))
        .await
        .unwrap();

    let expected = format!(
        "{} {}",
        pki.id(AGENT_B),
        tokens::thumbprint::x5t_s256(&pki.leaf(AGENT_B))
    );
    // One channel, cloned per call: calls share its HTTP/2 connection.
    for _ in 0..3 {
        assert_eq!(call(channel.clone()).await.unwrap(), expected);
    }

    server.shutdown.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_client_the_server_does_not_allow_cannot_open_a_channel() {
    let pki = TestPki::new();
    let server = start(&pki).await;
    // The web app never calls Agent A directly.
    let tls = client_config(
        pki.source(WEB_APP),
        PeerPolicy::only(pki.id(AGENT_A)),
        ClientAlpn::Grpc,
    )
    .unwrap();
    let refusal = match server
        .endpoint
        .connect_with_connector(MtlsConnector::new(tls))
        .await
    {
        Err(error) => format!("{error:?}"),
        // TLS 1.3 lets the client finish its handshake before the server has judged the client
        // certificate, so the channel may come up and the first call fail instead.
        Ok(channel) => {
            let status = call(channel).await.unwrap_err();
            assert_eq!(status.code(), Code::Unknown, "{status:?}");
            format!("{status:?}")
        }
    };
    // HTTP/2 (the h2 crate) keeps IO errors as text, so the alert can only be read from it.
    assert!(refusal.contains("CertificateUnknown"), "{refusal}");
    let _ = server.shutdown.send(());
}
