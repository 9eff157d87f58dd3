//! Serves an axum router on verified connections, HTTP/1.1 or HTTP/2 as the client negotiates.

use std::future::Future;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt as _;
use tracing::debug;

use super::incoming::MtlsIncoming;
use super::stream::MtlsStream;

pub(super) async fn serve(
    mut incoming: MtlsIncoming,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut http = auto::Builder::new(TokioExecutor::new());
    // The timer enables hyper's HTTP/1 header read timeout, the slow-loris guard after TLS.
    http.http1().timer(TokioTimer::new());
    http.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let connection = tokio::select! {
            () = &mut shutdown => break,
            connection = incoming.next_connection() => connection,
        };
        let Some(connection) = connection else {
            break;
        };
        let service = per_request_service(&connection, router.clone());
        let connection = http
            .serve_connection_with_upgrades(TokioIo::new(connection), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                debug!(%error, "connection closed with an error");
            }
        });
    }
    // Dropping the stream stops the accept loop and closes the listening socket.
    drop(incoming);
    graceful.shutdown().await;
}

/// The router, with the connection's peer (and address) put into every request's extensions.
fn per_request_service(
    connection: &MtlsStream,
    router: Router,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    let peer = connection.peer().clone();
    let remote_addr = ConnectInfo(connection.remote_addr());
    hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(peer.clone());
        request.extensions_mut().insert(remote_addr);
        router.clone().oneshot(request)
    })
}
