//! The call to Service A2 (design step 18): mesh mTLS only, no service token, the user context
//! forwarded unchanged.
//!
//! One channel, built at start and shared by every call: it multiplexes calls over one HTTP/2
//! connection and redials only when that connection is lost. It connects lazily, so Agent A
//! starts whether or not Service A2 is up yet. The TLS client presents Agent A's SVID and accepts
//! exactly Service A2's SPIFFE ID; ALPN is `h2` only.

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use telemetry::propagation::grpc as propagation;
use telemetry::{RequestContext, SystemRandom};
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use wire::grpc::service_a2::v1::service_a2_client::ServiceA2Client;
use wire::grpc::service_a2::v1::{RecordsRequest, RecordsResponse};
use wire::metadata::USER_CONTEXT;
use wire::{Intent, InvalidStepRecord};
use workload_identity::{IdentitySource, SpiffeId};

/// How long one call may take, connection included.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// An answer is one customer's records for one intent: small.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why Service A2 gave no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceA2Error {
    /// Service A2 answered with an error status.
    #[error("Service A2 answered {:?}: {}", .0.code(), .0.message())]
    Status(Status),
    #[error("no random bytes for the child trace context")]
    Randomness,
    #[error("Service A2 answered without records")]
    NoData,
    /// The records are not the verified customer's: never passed on.
    #[error("Service A2 answered with records of another customer")]
    OtherCustomer,
    #[error("Service A2 returned an invalid step record: {0}")]
    InvalidStep(#[from] InvalidStepRecord),
}

/// The channel to Service A2. Cheap to clone: clones share the connection.
#[derive(Debug, Clone)]
pub struct ServiceA2 {
    client: ServiceA2Client<Channel>,
    rng: Arc<SystemRandom>,
}

impl ServiceA2 {
    /// Sets up the channel to `uri`, presenting `identity` and accepting only `server`. Must be
    /// called within a tokio runtime; nothing is dialled until the first call.
    pub fn connect_lazy(
        identity: Arc<dyn IdentitySource>,
        server: SpiffeId,
        uri: Uri,
    ) -> Result<Self, rustls::Error> {
        let channel = workload_identity::grpc_channel_lazy(identity, server, uri, CALL_TIMEOUT)?;
        Ok(Self {
            client: ServiceA2Client::new(channel).max_decoding_message_size(MAX_RESPONSE_BYTES),
            rng: Arc::new(SystemRandom::new()),
        })
    }

    /// Asks for `subject`'s records for `intent`, forwarding `user_context` exactly as received
    /// and the request id with a child trace context. `subject` is the customer Agent A verified:
    /// an answer for anyone else is refused.
    pub async fn records(
        &self,
        intent: Intent,
        user_context: AsciiMetadataValue,
        context: &RequestContext,
        subject: &str,
    ) -> Result<RecordsResponse, ServiceA2Error> {
        let child = RequestContext::new(
            context.request_id.clone(),
            context
                .traceparent
                .child(self.rng.as_ref())
                .map_err(|_| ServiceA2Error::Randomness)?,
        );
        let mut metadata = MetadataMap::new();
        metadata.insert(USER_CONTEXT, user_context);
        propagation::insert(&mut metadata, &child);
        let request = Request::from_parts(
            metadata,
            tonic::Extensions::default(),
            RecordsRequest {
                intent: intent.into(),
            },
        );
        let response = self
            .client
            .clone()
            .get_records(request)
            .await
            .map_err(ServiceA2Error::Status)?
            .into_inner();
        let data = response.data.as_ref().ok_or(ServiceA2Error::NoData)?;
        if data.subject != subject {
            return Err(ServiceA2Error::OtherCustomer);
        }
        if data.records.is_none() {
            return Err(ServiceA2Error::NoData);
        }
        for step in &response.steps {
            step.checked()?;
        }
        Ok(response)
    }
}

impl ServiceA2Error {
    /// The status Agent A answers with. Service A2's verdict on the customer is passed on (no
    /// account, a user context that expired on the way); its refusal of Agent A itself is this
    /// deployment's fault, not the caller's, and so is anything else that went wrong.
    pub fn code(&self) -> Code {
        match self {
            Self::Status(status) => match status.code() {
                Code::NotFound => Code::NotFound,
                Code::Unauthenticated => Code::Unauthenticated,
                Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => Code::Unavailable,
                _ => Code::Internal,
            },
            Self::Randomness | Self::NoData | Self::OtherCustomer | Self::InvalidStep(_) => {
                Code::Internal
            }
        }
    }
}
