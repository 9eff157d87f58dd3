//! The verified connections of an accept loop, as the stream tonic serves.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio_stream::Stream;

use super::stream::MtlsStream;

/// Connections whose handshake completed and whose peer the policy allowed. Failed handshakes
/// are logged and dropped by the accept loop, so the stream never yields an error.
#[derive(Debug)]
pub struct MtlsIncoming {
    connections: mpsc::Receiver<MtlsStream>,
}

impl MtlsIncoming {
    pub(crate) fn new(connections: mpsc::Receiver<MtlsStream>) -> Self {
        Self { connections }
    }

    /// The next verified connection; `None` once the accept loop has stopped.
    pub async fn next_connection(&mut self) -> Option<MtlsStream> {
        self.connections.recv().await
    }
}

impl Stream for MtlsIncoming {
    type Item = Result<MtlsStream, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.connections.poll_recv(cx).map(|next| next.map(Ok))
    }
}
