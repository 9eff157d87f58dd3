//! Accepts TCP connections and runs their TLS handshakes, each in its own task with a deadline,
//! handing on only connections whose peer was verified and authorized.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tracing::{Instrument as _, debug, error, info_span, warn};

use super::refusal::{self, HandshakeRefusal, RefusalHook};
use super::stream::MtlsStream;
use crate::peer::PeerIdentity;
use crate::svid::SvidError;

/// Established connections waiting to be served. Small: a full channel only delays handshakes
/// that already completed, it never drops them.
const QUEUE: usize = 16;

/// Handshakes in progress at once. Beyond this the loop stops accepting (the kernel's backlog
/// queues new connections) instead of spawning without bound under a flood.
const MAX_HANDSHAKES: usize = 1024;

/// Pause after a failed `accept`, usually file-descriptor exhaustion, which retrying at once
/// would only turn into a busy loop.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Starts accepting on `listener`. The task stops, closing the listener, once the returned
/// receiver is dropped.
pub(crate) fn spawn(
    listener: TcpListener,
    tls: TlsAcceptor,
    handshake_timeout: Duration,
    on_refusal: Option<RefusalHook>,
) -> mpsc::Receiver<MtlsStream> {
    let (sender, receiver) = mpsc::channel(QUEUE);
    tokio::spawn(accept_loop(
        listener,
        tls,
        handshake_timeout,
        on_refusal,
        sender,
    ));
    receiver
}

async fn accept_loop(
    listener: TcpListener,
    tls: TlsAcceptor,
    handshake_timeout: Duration,
    on_refusal: Option<RefusalHook>,
    sender: mpsc::Sender<MtlsStream>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let accepted = tokio::select! {
            () = sender.closed() => break,
            accepted = accept(&listener, &handshakes) => accepted,
        };
        match accepted {
            Ok((tcp, remote_addr, permit)) => {
                let span = info_span!("tls_accept", %remote_addr);
                let handshake = handshake(
                    tcp,
                    remote_addr,
                    tls.clone(),
                    handshake_timeout,
                    on_refusal.clone(),
                );
                let sender = sender.clone();
                tokio::spawn(
                    async move {
                        let stream = handshake.await;
                        drop(permit);
                        if let Some(stream) = stream {
                            // A send error means the server is shutting down: drop the connection.
                            let _ = sender.send(stream).await;
                        }
                    }
                    .instrument(span),
                );
            }
            Err(error) => {
                warn!(%error, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

/// The next connection, once a handshake slot is free.
async fn accept(
    listener: &TcpListener,
    handshakes: &Arc<Semaphore>,
) -> io::Result<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    // The semaphore is never closed, so acquiring only waits.
    let permit = Arc::clone(handshakes)
        .acquire_owned()
        .await
        .map_err(io::Error::other)?;
    let (tcp, remote_addr) = listener.accept().await?;
    Ok((tcp, remote_addr, permit))
}

/// Runs in its own task under a deadline, so a client that stalls mid-handshake (slow loris)
/// holds only its own socket, never the accept loop.
async fn handshake(
    tcp: TcpStream,
    remote_addr: SocketAddr,
    tls: TlsAcceptor,
    timeout: Duration,
    on_refusal: Option<RefusalHook>,
) -> Option<MtlsStream> {
    // Requests and responses are small; waiting to coalesce them only adds latency.
    if let Err(error) = tcp.set_nodelay(true) {
        debug!(%error, "cannot set TCP_NODELAY");
    }
    let stream = match tokio::time::timeout(timeout, tls.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            log_handshake_failure(&error);
            if let (Some(hook), Some(reason)) = (&on_refusal, refusal::classify(&error)) {
                hook(&HandshakeRefusal {
                    remote_addr,
                    reason,
                });
            }
            return None;
        }
        Err(_elapsed) => {
            debug!(?timeout, "TLS handshake timed out");
            return None;
        }
    };
    match PeerIdentity::from_verified_chain(stream.get_ref().1.peer_certificates()) {
        Ok(peer) => Some(MtlsStream::new(stream, peer, remote_addr)),
        Err(error) => {
            // Only a server configuration that does not require client certificates gets here.
            error!(%error, "refusing connection without a verified peer");
            None
        }
    }
}

fn log_handshake_failure(error: &io::Error) {
    if SvidError::find_in(error).is_some() {
        // The verifier already logged the reason, inside this connection's span.
        debug!(%error, "TLS handshake refused");
    } else if matches!(
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::NoCertificatesPresented)
    ) {
        warn!("refused a client that presented no certificate");
    } else {
        // Port scans, health probes and plain-HTTP clients end here.
        debug!(%error, "TLS handshake failed");
    }
}
