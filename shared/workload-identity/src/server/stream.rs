//! An accepted mutual-TLS connection that knows its verified peer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

use crate::peer::PeerIdentity;

/// A server-side mutual-TLS connection whose handshake completed and whose peer is authorized.
#[derive(Debug)]
pub struct MtlsStream {
    tls: TlsStream<TcpStream>,
    peer: PeerIdentity,
    remote_addr: SocketAddr,
}

impl MtlsStream {
    pub(crate) fn new(
        tls: TlsStream<TcpStream>,
        peer: PeerIdentity,
        remote_addr: SocketAddr,
    ) -> Self {
        Self {
            tls,
            peer,
            remote_addr,
        }
    }

    pub fn peer(&self) -> &PeerIdentity {
        &self.peer
    }

    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }
}

/// tonic puts `ConnectInfo` into every request's extensions, so a gRPC service reads the peer
/// with `request.extensions().get::<PeerIdentity>()`.
impl Connected for MtlsStream {
    type ConnectInfo = PeerIdentity;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.peer.clone()
    }
}

impl AsyncRead for MtlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for MtlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tls.is_write_vectored()
    }
}
