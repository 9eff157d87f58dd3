//! Step 17, Agent B's side: the call to Agent A over gRPC on mutual TLS.
//!
//! One channel, built at start (lazily: Agent A may start later) and shared by every call: it
//! multiplexes calls over one HTTP/2 connection and redials only when that connection is lost.
//! The TLS client presents Agent B's SVID, offers ALPN `h2` only and accepts exactly Agent A's
//! SPIFFE ID. Each call carries `authorization: Bearer <service token>`, `x-user-context:
//! <transaction token>`, the request id and a child `traceparent`; the customer's own access
//! token is never sent.
//!
//! The answer is checked before anything of it goes further: the records must be the verified
//! customer's (`subject` = the `sub` Agent B validated in step 12) and every step record must be
//! in the catalogue.

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use telemetry::propagation::grpc as propagation;
use telemetry::{RequestContext, SystemRandom};
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use wire::chat::{AccountData, NoRecords};
use wire::grpc::agent_a::v1::AccountDataRequest;
use wire::grpc::agent_a::v1::agent_a_client::AgentAClient;
use wire::metadata::{AUTHORIZATION, USER_CONTEXT};
use wire::{Intent, InvalidStepRecord, StepRecord};
use workload_identity::{IdentitySource, SpiffeId};

/// How long one call may take, connection included (Agent A's own limit is 10 s, its call to
/// Service A2 5 s).
const CALL_TIMEOUT: Duration = Duration::from_secs(8);
/// An answer is one customer's records for one intent and a handful of step records.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why Agent A gave no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AgentAError {
    /// Agent A answered with an error status.
    #[error("Agent A answered {:?}: {}", .0.code(), .0.message())]
    Status(Status),
    #[error("the service token or the user context cannot be sent as metadata")]
    Metadata,
    #[error("no random bytes for the child trace context")]
    Randomness,
    #[error("Agent A answered without records")]
    NoData,
    /// The records are not the verified customer's: never passed on.
    #[error("Agent A answered with the records of another customer")]
    OtherCustomer,
    #[error("Agent A returned an invalid step record: {0}")]
    InvalidStep(#[from] InvalidStepRecord),
}

impl From<NoRecords> for AgentAError {
    fn from(_: NoRecords) -> Self {
        Self::NoData
    }
}

impl AgentAError {
    /// Agent A refused Agent B's credentials: the service token or the user context.
    pub fn is_credential_refusal(&self) -> bool {
        matches!(self, Self::Status(status)
            if matches!(status.code(), Code::Unauthenticated | Code::PermissionDenied))
    }

    /// Agent A, or what is behind it, is down or too slow: the call may work later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Status(status)
            if matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled))
    }

    /// The customer holds no account.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status(status) if status.code() == Code::NotFound)
    }
}

/// Agent A's verified answer.
#[derive(Debug)]
pub struct AgentAAnswer {
    pub data: AccountData,
    /// Steps 17 to 21 as Agent A and Service A2 recorded them, in order.
    pub steps: Vec<StepRecord>,
}

/// The channel to Agent A. Cheap to clone: clones share the connection.
#[derive(Debug, Clone)]
pub struct AgentA {
    client: AgentAClient<Channel>,
    rng: Arc<SystemRandom>,
}

impl AgentA {
    /// Sets up the channel to `uri`, presenting `identity` and accepting only `server`. Must be
    /// called within a tokio runtime; nothing is dialled until the first call.
    pub fn connect_lazy(
        identity: Arc<dyn IdentitySource>,
        server: SpiffeId,
        uri: Uri,
    ) -> Result<Self, rustls::Error> {
        let channel = workload_identity::grpc_channel_lazy(identity, server, uri, CALL_TIMEOUT)?;
        Ok(Self {
            client: AgentAClient::new(channel).max_decoding_message_size(MAX_RESPONSE_BYTES),
            rng: Arc::new(SystemRandom::new()),
        })
    }

    /// Asks for `subject`'s records for `intent`. `subject` is the customer Agent B verified;
    /// an answer about anyone else is refused.
    pub async fn account_data(
        &self,
        intent: Intent,
        message: &str,
        service_token: &str,
        user_context: &str,
        context: &RequestContext,
        subject: &str,
    ) -> Result<AgentAAnswer, AgentAError> {
        let child = RequestContext::new(
            context.request_id.clone(),
            context
                .traceparent
                .child(self.rng.as_ref())
                .map_err(|_| AgentAError::Randomness)?,
        );
        let mut metadata = MetadataMap::new();
        let bearer = AsciiMetadataValue::try_from(format!("Bearer {service_token}"))
            .map_err(|_| AgentAError::Metadata)?;
        let user_context =
            AsciiMetadataValue::try_from(user_context).map_err(|_| AgentAError::Metadata)?;
        metadata.insert(AUTHORIZATION, bearer);
        metadata.insert(USER_CONTEXT, user_context);
        propagation::insert(&mut metadata, &child);
        let request = Request::from_parts(
            metadata,
            tonic::Extensions::default(),
            AccountDataRequest {
                intent: intent.into(),
                message: message.to_owned(),
            },
        );
        let response = self
            .client
            .clone()
            .get_account_data(request)
            .await
            .map_err(AgentAError::Status)?
            .into_inner();
        let data = AccountData::try_from(response.data.ok_or(AgentAError::NoData)?)?;
        if data.subject != subject {
            return Err(AgentAError::OtherCustomer);
        }
        for step in &response.steps {
            step.checked()?;
        }
        Ok(AgentAAnswer {
            data,
            steps: response.steps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let error = |code| AgentAError::Status(Status::new(code, "x"));
        assert!(error(Code::Unauthenticated).is_credential_refusal());
        assert!(error(Code::PermissionDenied).is_credential_refusal());
        assert!(error(Code::Unavailable).is_unavailable());
        assert!(error(Code::DeadlineExceeded).is_unavailable());
        assert!(error(Code::NotFound).is_not_found());
        assert!(!error(Code::Internal).is_unavailable());
        assert!(!AgentAError::OtherCustomer.is_credential_refusal());
    }
}
