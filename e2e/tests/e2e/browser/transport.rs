//! thirtyfour's HTTP transport on the workspace's reqwest: one HTTP client library in the tree
//! (thirtyfour's own would be a second reqwest version), and the kit's client settings, among
//! them no proxy from the environment — ChromeDriver listens on loopback.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use thirtyfour::error::{WebDriverError, WebDriverErrorInner, WebDriverResult};
use thirtyfour::session::http::{Body, HttpClient};

/// A command may wait for a page to load (a click that submits a form), which crosses five
/// programs on a loaded machine.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The client thirtyfour sends WebDriver commands through.
#[derive(Debug, Clone)]
pub struct Loopback(reqwest::Client);

impl Loopback {
    pub fn new() -> Self {
        Self(e2e::http_client(TIMEOUT).expect("an HTTP client for ChromeDriver"))
    }
}

#[async_trait::async_trait]
impl HttpClient for Loopback {
    async fn send(&self, request: Request<Body<'_>>) -> WebDriverResult<Response<Bytes>> {
        let (parts, body) = request.into_parts();
        let mut outgoing = self
            .0
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers);
        if let Body::Json(json) = body {
            outgoing = outgoing.json(json);
        }
        let incoming = outgoing.send().await.map_err(failed)?;
        let status = incoming.status();
        let headers = incoming.headers().clone();
        let mut response = Response::new(incoming.bytes().await.map_err(failed)?);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// thirtyfour closes a session that was dropped without `quit` on a runtime of its own; a
    /// client's connections belong to the runtime that made them, so that one gets a new client.
    async fn new(&self) -> Arc<dyn HttpClient> {
        Arc::new(Self::new())
    }
}

fn failed(error: reqwest::Error) -> WebDriverError {
    WebDriverErrorInner::RequestFailed(error.to_string()).into()
}
