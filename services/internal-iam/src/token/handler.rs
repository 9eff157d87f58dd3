//! The `/token` handler: request id, step events, audit, and dispatch by grant type.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use http::header::AUTHORIZATION;
use telemetry::RequestId;
use telemetry::StepTimer;
use telemetry::propagation::http::insert_request_id;
use tracing::Instrument as _;
use wire::{GrantType, Program, steps};
use workload_identity::PeerIdentity;

use super::form::{Form, MAX_BODY_BYTES, printable};
use super::response::Authorized;
use super::{Refusal, client_credentials, exchange};
use crate::audit::{AuditEvent, Outcome};
use crate::registry::RegisteredWorkload;
use crate::request_id;
use crate::state::AppState;

/// Client authentication methods other than the certificate; each is refused (RFC 6749 §2.3).
const OTHER_CLIENT_AUTH: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

pub(crate) async fn token(
    State(state): State<AppState>,
    peer: PeerIdentity,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (request_id, header_problem) = request_id::from_headers(&headers, &state.rng);
    let span = tracing::info_span!(
        "token_request",
        request_id = request_id.as_str(),
        spiffe_id = peer.spiffe_id().as_str()
    );
    handle(
        state,
        peer,
        remote,
        headers,
        body,
        request_id,
        header_problem,
    )
    .instrument(span)
    .await
}

async fn handle(
    state: AppState,
    peer: PeerIdentity,
    remote: SocketAddr,
    headers: HeaderMap,
    body: Body,
    request_id: RequestId,
    header_problem: Option<String>,
) -> Response {
    let verify = StepTimer::start(Program::InternalIam, steps::WORKLOAD_VERIFIED, &request_id);
    let mut event = AuditEvent::new(Outcome::Refused, state.clock.now(), "");
    event.request_id = Some(request_id.to_string());
    event.spiffe_id = Some(peer.spiffe_id().to_string());
    event.peer_addr = Some(remote.to_string());

    let authorized = match header_problem {
        Some(problem) => Err(Refusal::invalid_request(problem)),
        None => authorize(&state, &peer, &headers, body, &request_id, &mut event).await,
    };
    let authorized = match authorized {
        Ok(authorized) => {
            verify.ok(authorized.check());
            authorized
        }
        Err(refusal) => {
            verify.rejected("token request", &refusal.reason);
            return refuse(&state, event, refusal, &request_id).await;
        }
    };

    let issue = StepTimer::start(Program::InternalIam, steps::TOKENS_ISSUED, &request_id);
    match authorized.sign(&state) {
        Ok(issued) => {
            issue.ok_with_detail(authorized.what(), &format!("jti {}", issued.jti));
            event.outcome = Outcome::Issued.as_str().to_owned();
            event.reason = authorized.what().to_owned();
            state.audit.record(event).await;
            issued.into_response(&request_id)
        }
        Err(refusal) => {
            issue.failed("signing", &refusal.reason);
            refuse(&state, event, refusal, &request_id).await
        }
    }
}

/// Step 15: everything about the request and its client.
async fn authorize(
    state: &AppState,
    peer: &PeerIdentity,
    headers: &HeaderMap,
    body: Body,
    request_id: &RequestId,
    event: &mut AuditEvent,
) -> Result<Authorized, Refusal> {
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            Refusal::invalid_request(format!(
                "the request body is unreadable or over {MAX_BODY_BYTES} bytes"
            ))
        })?;
    let form = Form::parse(headers, &body)?;
    let grant = form.get("grant_type").map(str::parse::<GrantType>);
    if let Some(Ok(grant)) = grant {
        event.grant_type = Some(grant.as_str().to_owned());
    }
    let workload = authenticate(state, peer, headers, &form)?;
    match grant {
        None => Err(Refusal::invalid_request("grant_type is required")),
        Some(Ok(GrantType::ClientCredentials)) => {
            client_credentials::authorize(state, peer, &workload, &form, event)
        }
        Some(Ok(GrantType::TokenExchange)) => {
            exchange::authorize(state, peer, &workload, &form, request_id, event).await
        }
        Some(Ok(other)) => Err(Refusal::unsupported_grant_type(format!(
            "grant_type {other} is not supported here: use client_credentials or token exchange"
        ))),
        Some(Err(_)) => Err(Refusal::unsupported_grant_type(format!(
            "grant_type {} is not supported: use client_credentials or token exchange",
            printable(form.get("grant_type").unwrap_or_default())
        ))),
    }
}

/// The client is the certificate's SPIFFE ID, and it must be registered.
fn authenticate(
    state: &AppState,
    peer: &PeerIdentity,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Arc<RegisteredWorkload>, Refusal> {
    if headers.contains_key(AUTHORIZATION) {
        return Err(Refusal::invalid_request(
            "clients authenticate with their certificate (tls_client_auth) only; send no Authorization header",
        ));
    }
    if let Some(other) = OTHER_CLIENT_AUTH.iter().find(|name| form.has(name)) {
        return Err(Refusal::invalid_request(format!(
            "clients authenticate with their certificate (tls_client_auth) only; {other} is not accepted"
        )));
    }
    let spiffe_id = peer.spiffe_id().as_str();
    if let Some(client_id) = form.get("client_id")
        && client_id != spiffe_id
    {
        return Err(Refusal::invalid_client(format!(
            "client_id {} is not the SPIFFE ID of the presented certificate, {spiffe_id}",
            printable(client_id)
        )));
    }
    state.registry.get(spiffe_id).ok_or_else(|| {
        Refusal::invalid_client(format!("{spiffe_id} is not registered with this IAM"))
    })
}

async fn refuse(
    state: &AppState,
    mut event: AuditEvent,
    refusal: Refusal,
    request_id: &RequestId,
) -> Response {
    event.error = Some(refusal.code().to_owned());
    event.reason = refusal.reason;
    state.audit.record(event).await;
    let mut response = refusal.error.into_response();
    insert_request_id(response.headers_mut(), request_id);
    response
}
