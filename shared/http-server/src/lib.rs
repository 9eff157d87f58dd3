//! Serves an axum router on a plain TCP listener (the web app's and the external IAM's public
//! ports), HTTP/1.1 or HTTP/2 as the client negotiates, with limits on slow clients.
//!
//! `axum::serve` gives hyper no timer, so hyper cannot time out a client that sends its request
//! headers one byte at a time, or never finishes them: each such connection holds a socket and
//! a task for as long as the client likes, and a few thousand of them exhaust the process's file
//! descriptors. Here hyper has a timer, so [`Limits::header_read`] applies, and every request has
//! a deadline ([`Limits::request`]) covering the body and the handler, so a body that trickles in
//! (a `Content-Length` never reached) ends with `408 Request Timeout` and a closed connection.
//!
//! Connections are not capped: a cap in one process trades slow-client exhaustion for a
//! lock-out of everyone by a few clients; that limit belongs to the load balancer in front.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse as _, Response};
use http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// The limits on slow clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client may take to send a request's headers (HTTP/1.1), counted from the
    /// first byte of the request or from the end of the previous response.
    pub header_read: Duration,
    /// How long one request may take from its headers to its response: reading the body and
    /// running the handler.
    pub request: Duration,
}

impl Default for Limits {
    /// 10 s for headers (a browser sends them in one packet); 30 s per request, above the
    /// slowest legitimate path (a chat action that waits for the whole chain behind it, whose
    /// own calls time out sooner).
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and waits
/// for open connections to finish their requests. Every request carries the client's
/// [`ConnectInfo<SocketAddr>`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    http.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A failed accept (for example, out of file descriptors) is about that one
                // connection; the listener carries on after a pause that lets sockets close.
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Responses are small and written at once: do not hold them back for more data.
        let _ = stream.set_nodelay(true);
        let service = per_request(router.clone(), remote, limits.request);
        let connection = http
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
    // Stop listening before waiting for the open connections.
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The router for one connection: the client's address in every request, and the deadline.
fn per_request(
    router: Router,
    remote: SocketAddr,
    deadline: Duration,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = Response,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        let router = router.clone();
        async move {
            match tokio::time::timeout(deadline, router.oneshot(request)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::info!(%remote, "request timed out");
                    Ok(too_slow())
                }
            }
        }
    })
}

/// `408 Request Timeout` with `Connection: close`: the rest of a request that stalled cannot
/// be told from the next one, so the connection ends with this answer.
fn too_slow() -> Response {
    let mut response = (
        StatusCode::REQUEST_TIMEOUT,
        "The request took too long to arrive.\n",
    )
        .into_response();
    response.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    response
}

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    use super::*;

    const LIMITS: Limits = Limits {
        header_read: Duration::from_secs(10),
        request: Duration::from_secs(30),
    };

    /// A server on a free loopback port; time is paused, so the limits pass as soon as
    /// nothing else can happen, and no test waits for them in real time.
    async fn start() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router =
            Router::new()
                .route(
                    "/who",
                    get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                        peer.ip().to_string()
                    }),
                )
                .route("/echo", post(|body: String| async move { body }));
        tokio::spawn(serve(listener, router, LIMITS, std::future::pending()));
        addr
    }

    /// Everything the server sends until it closes the connection.
    async fn read_to_close(stream: &mut TcpStream) -> String {
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_is_answered_with_the_clients_address() {
        let addr = start().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "{answer}");
    }

    #[tokio::test(start_paused = true)]
    async fn headers_that_never_end_close_the_connection() {
        let addr = start().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // No blank line: the headers never end.
        stream
            .write_all(b"GET /who HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        let answer = read_to_close(&mut stream).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
        assert!(started.elapsed() >= LIMITS.header_read, "closed early");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_never_arrives_gets_408_and_a_closed_connection() {
        let addr = start().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b")
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        assert!(started.elapsed() >= LIMITS.request, "closed early");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_complete_body_within_the_deadline_is_served() {
        let addr = start().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 4\r\n\r\nab")
            .await
            .unwrap();
        tokio::time::sleep(LIMITS.request / 2).await;
        stream.write_all(b"cd").await.unwrap();
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("abcd"), "{answer}");
    }
}
