//! gRPC over mutual TLS to Agent A and Service A2, presenting any workload's SVID (or any
//! identity a test made), with the metadata the real callers send.

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use telemetry::RequestContext;
use tonic::Request;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;
use wire::Intent;
use wire::grpc::agent_a::v1::AccountDataRequest;
use wire::grpc::agent_a::v1::agent_a_client::AgentAClient;
use wire::grpc::service_a2::v1::RecordsRequest;
use wire::grpc::service_a2::v1::service_a2_client::ServiceA2Client;
use wire::metadata::{AUTHORIZATION, USER_CONTEXT};
use workload_identity::IdentitySource;
use workload_identity::workloads::{self, Workload};

use crate::kit::TestEnv;

/// One call, connection included; Agent A's own call to Service A2 is part of it.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Agent A's API, called as `caller`.
pub fn agent_a(env: &TestEnv, caller: Arc<dyn IdentitySource>) -> AgentAClient<Channel> {
    AgentAClient::new(channel(
        caller,
        workloads::AGENT_A,
        env.stack().ports.agent_a,
    ))
}

/// Service A2's API, called as `caller`.
pub fn service_a2(env: &TestEnv, caller: Arc<dyn IdentitySource>) -> ServiceA2Client<Channel> {
    ServiceA2Client::new(channel(
        caller,
        workloads::SERVICE_A2,
        env.stack().ports.service_a2,
    ))
}

/// A channel to `server` on `port`, presenting `caller` and accepting only `server`'s SPIFFE ID.
fn channel(caller: Arc<dyn IdentitySource>, server: Workload, port: u16) -> Channel {
    let uri: Uri = format!("https://127.0.0.1:{port}")
        .parse()
        .unwrap_or_else(|error| panic!("not a URI: {error}"));
    workload_identity::grpc_channel_lazy(caller, super::spiffe_id(server), uri, CALL_TIMEOUT)
        .unwrap_or_else(|error| panic!("cannot build the channel to {}: {error}", server.name()))
}

/// Agent A's request as Agent B makes it (design step 17): `authorization: Bearer <service
/// token>`, `x-user-context: <transaction token>`, the request id and `traceparent`.
pub fn account_data_request(
    intent: Intent,
    service_token: &str,
    user_context: &str,
    context: &RequestContext,
) -> Request<AccountDataRequest> {
    let mut request = Request::new(AccountDataRequest {
        intent: intent.into(),
        message: String::new(),
    });
    let metadata = request.metadata_mut();
    metadata.insert(AUTHORIZATION, ascii(&format!("Bearer {service_token}")));
    metadata.insert(USER_CONTEXT, ascii(user_context));
    telemetry::propagation::grpc::insert(metadata, context);
    request
}

/// Service A2's request as Agent A makes it (design step 18): no service token, the user
/// context, the request id and `traceparent`.
pub fn records_request(
    intent: Intent,
    user_context: &str,
    context: &RequestContext,
) -> Request<RecordsRequest> {
    let mut request = Request::new(RecordsRequest {
        intent: intent.into(),
    });
    let metadata = request.metadata_mut();
    metadata.insert(USER_CONTEXT, ascii(user_context));
    telemetry::propagation::grpc::insert(metadata, context);
    request
}

fn ascii(text: &str) -> AsciiMetadataValue {
    AsciiMetadataValue::try_from(text).unwrap_or_else(|_| panic!("not ASCII metadata: {text:?}"))
}
