//! The chat handler: one chat action, steps 12 to 22.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use telemetry::propagation::http as propagation;
use telemetry::{RequestContext, RequestId, StepTimer, SystemRandom, TraceParent};
use tokens::SharedClock;
use tracing::Instrument as _;
use wire::chat::{AccountData, ChatRequest, ChatResponse};
use wire::headers::{CACHE_CONTROL, NO_STORE};
use wire::{Intent, OAuthError, Outcome, Program, steps};
use workload_identity::PeerIdentity;

use super::failure::{FailedChat, Failure};
use super::timeline::Timeline;
use crate::agent_a::{AgentA, AgentAAnswer, AgentAError};
use crate::answer::account_answer;
use crate::customer::{CustomerAuth, VerifiedCustomer};
use crate::iam::{CachedToken, Freshness, IamClient, IamError, IssuedToken};
use crate::intent::{self, LocalReply, Reply};

const PROGRAM: Program = Program::AgentB;
const CHECK_12: &str = "caller SPIFFE ID, customer access token and DPoP proof";
const CHECK_13: &str = "chat intent";
const CHECK_14: &str = "service token and user context requested over mTLS";
const CHECK_15: &str = "client SVID, registration and the customer's access token verified";
const CHECK_16: &str = "service token and transaction token issued";
const CHECK_22: &str = "answer and timeline returned to the web app";

/// What every chat request uses. Built once at start.
#[derive(Debug)]
pub struct ChatState {
    pub customers: CustomerAuth,
    pub iam: IamClient,
    pub agent_a: AgentA,
    pub rng: SystemRandom,
    /// The clock token lifetimes are measured with.
    pub clock: SharedClock,
}

/// `POST /v1/chat`: one chat action, steps 12 to 22.
///
/// 1. The correlation context from `X-Request-Context` (a fresh one if the caller sent none; a
///    malformed one is refused). Every log line of the request carries its request id, and the
///    response returns it in `X-Request-Id`.
/// 2. Step 12: the customer's token and proof ([`crate::customer`]).
/// 3. The body: `application/json`, `{"message": "..."}` ([`wire::chat::ChatRequest`]).
/// 4. Step 13: the intent ([`crate::intent`]). A message that needs no account data is answered
///    here; steps 13–21 are recorded as skipped.
/// 5. Step 14 (with 15–16 at the IAM): the service token, from the cache or the IAM, and the
///    transaction token, both over the one mTLS connection to the IAM, concurrently.
/// 6. Step 17 (with 18–21 behind Agent A): Agent A's answer, checked to be the customer's.
/// 7. Step 22: the answer, its records and the timeline go back.
///
/// The caller was authorized by [`crate::caller`] already.
pub async fn chat(
    State(state): State<Arc<ChatState>>,
    method: Method,
    peer: PeerIdentity,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (context, bad_context) = match correlation(&headers, &state.rng) {
        Ok(found) => found,
        Err(failure) => return failure.alone().into_response(),
    };
    let request_id = context.request_id.clone();
    let outcome = async {
        if let Some(why) = bad_context {
            tracing::warn!(%why, "chat request refused: malformed correlation header");
            return Err(Failure::BadRequest(why).alone());
        }
        answer(&state, &method, &peer, &headers, body, &context).await
    }
    .instrument(telemetry::request_span(&context))
    .await;
    let mut response = match outcome {
        Ok(answer) => {
            let mut response = (StatusCode::OK, Json(answer)).into_response();
            // The answer holds the customer's account data.
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
            response
        }
        Err(failed) => failed.into_response(),
    };
    propagation::insert_request_id(response.headers_mut(), &request_id);
    response
}

/// The caller's correlation context, or a fresh one; and what was wrong with the caller's, if
/// anything (the request is then refused, under the fresh id).
fn correlation(
    headers: &HeaderMap,
    rng: &SystemRandom,
) -> Result<(RequestContext, Option<String>), Failure> {
    let fresh = || -> Result<RequestContext, Failure> {
        let randomness = |_| Failure::Internal("the random number generator failed".to_owned());
        Ok(RequestContext::new(
            RequestId::generate(rng).map_err(randomness)?,
            TraceParent::generate(rng).map_err(randomness)?,
        ))
    };
    match propagation::request_context(headers) {
        Ok(Some(context)) => Ok((context, None)),
        Ok(None) => Ok((fresh()?, None)),
        Err(error) => Ok((fresh()?, Some(error.to_string()))),
    }
}

async fn answer(
    state: &ChatState,
    method: &Method,
    peer: &PeerIdentity,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    context: &RequestContext,
) -> Result<ChatResponse, FailedChat> {
    let request_id = &context.request_id;
    let mut timeline = Timeline::default();

    let step = StepTimer::start(PROGRAM, steps::CUSTOMER_TOKEN_VALIDATED, request_id);
    let customer = match state.customers.authenticate(method, headers).await {
        Ok(customer) => customer,
        Err(error) => {
            end_credentials(step, &error);
            return Err(Failure::Credentials(error).alone());
        }
    };
    timeline.push(step.ok_with_detail(
        CHECK_12,
        &format!(
            "caller {}; access token jti {} for {}; DPoP proof jti {}",
            peer.spiffe_id(),
            customer.jti(),
            customer.subject(),
            customer.proof_jti()
        ),
    ));

    let request = match read_body(headers, body) {
        Ok(request) => request,
        Err(failure) => return Err(fail(timeline, failure)),
    };
    let message = match request.checked_message() {
        Ok(message) => message,
        Err(error) => {
            return Err(fail(timeline, Failure::BadRequest(error.to_string())));
        }
    };

    let step = StepTimer::start(PROGRAM, steps::AGENT_A_NEEDED, request_id);
    let intent = match intent::classify(message) {
        Reply::Local(reply) => {
            return Ok(local_answer(step, reply, timeline, request_id));
        }
        Reply::Account(intent) => intent,
    };
    timeline.push(step.ok_with_detail(CHECK_13, &format!("account data: {}", intent.label())));

    let (service_token, freshness, user_context) =
        tokens(state, &customer, context, &mut timeline).await?;

    let started = Instant::now();
    let answer = state
        .agent_a
        .account_data(
            intent,
            message,
            service_token.token.secret(),
            user_context.secret(),
            context,
            customer.subject(),
        )
        .await;
    let AgentAAnswer { data, steps } = match answer {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(%error, intent = intent.label(), "Agent A gave no usable answer");
            if error.is_credential_refusal() {
                state.iam.forget_service_token(service_token.token.jti());
            }
            return Err(agent_a_failed(error, started.elapsed(), timeline));
        }
    };
    timeline.extend(steps);
    tracing::info!(
        intent = intent.label(),
        service_token = ?freshness,
        service_token_jti = service_token.token.jti(),
        txn_token_jti = user_context.jti(),
        "account data received from Agent A"
    );

    Ok(account_reply(data, timeline, request_id))
}

/// Steps 14 to 16: the service token and the user context, asked for concurrently over the one
/// connection to the IAM.
async fn tokens(
    state: &ChatState,
    customer: &VerifiedCustomer,
    context: &RequestContext,
    timeline: &mut Timeline,
) -> Result<(Arc<CachedToken>, Freshness, IssuedToken), FailedChat> {
    let step = StepTimer::start(PROGRAM, steps::TOKENS_REQUESTED, &context.request_id);
    let started = Instant::now();
    let (service, user) = tokio::join!(
        state.iam.service_token(context),
        state
            .iam
            .transaction_token(customer.access_token(), context)
    );
    let took = started.elapsed();
    let ((service_token, freshness), user_context) = match (service, user) {
        (Ok(service), Ok(user)) => (service, user),
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => {
            return Err(iam_failed(step, error, took, std::mem::take(timeline)));
        }
        // Report the error that decides the status: an outage (503) over a refusal (502).
        (Err(service), Err(user)) => {
            let error = if !service.is_unavailable() && user.is_unavailable() {
                user
            } else {
                service
            };
            return Err(iam_failed(step, error, took, std::mem::take(timeline)));
        }
    };

    let (outcome, detail) = match freshness {
        Freshness::Cached => (
            Outcome::Cached,
            format!(
                "service token served from Agent B's cache (jti {}, {} s left); transaction \
                 token jti {} issued for this request",
                service_token.token.jti(),
                service_token.expires_at - state.clock.now(),
                user_context.jti()
            ),
        ),
        Freshness::Issued => (
            Outcome::Ok,
            format!(
                "service token jti {} issued and cached; transaction token jti {}",
                service_token.token.jti(),
                user_context.jti()
            ),
        ),
    };
    timeline.push(match freshness {
        Freshness::Cached => step.cached_with_detail(CHECK_14, &detail),
        Freshness::Issued => step.ok_with_detail(CHECK_14, &detail),
    });
    // The IAM performed these for the exchange (and for the service token when it was issued);
    // its own step events carry its timing. The round trip is what Agent B saw.
    timeline.report(
        steps::WORKLOAD_VERIFIED,
        outcome,
        CHECK_15,
        Some("verified by the internal IAM within the round trip of step 16"),
        Duration::ZERO,
    );
    timeline.report(steps::TOKENS_ISSUED, outcome, CHECK_16, Some(&detail), took);
    Ok((service_token, freshness, user_context))
}

/// A message that needs no account data: steps 13–21 were not needed.
fn local_answer(
    step_13: StepTimer,
    reply: LocalReply,
    mut timeline: Timeline,
    request_id: &RequestId,
) -> ChatResponse {
    timeline.push(step_13.skipped(CHECK_13, reply.reason()));
    timeline.push(
        StepTimer::start(PROGRAM, steps::TOKENS_REQUESTED, request_id)
            .skipped(CHECK_14, reply.reason()),
    );
    timeline.report_not_needed(reply.reason());
    timeline.push(
        StepTimer::start(PROGRAM, steps::AGENT_B_RESPONDED, request_id)
            .ok_with_detail(CHECK_22, "answered by Agent B"),
    );
    ChatResponse {
        answer: reply.answer().to_owned(),
        data: None,
        steps: timeline.into_json(),
    }
}

/// Step 22 for an answer built from Agent A's records.
fn account_reply(
    data: AccountData,
    mut timeline: Timeline,
    request_id: &RequestId,
) -> ChatResponse {
    let step = StepTimer::start(PROGRAM, steps::AGENT_B_RESPONDED, request_id);
    let answer = account_answer(&data);
    timeline.push(step.ok_with_detail(CHECK_22, &format!("{} records", kind(&data))));
    ChatResponse {
        answer,
        data: Some(data),
        steps: timeline.into_json(),
    }
}

fn kind(data: &AccountData) -> &'static str {
    match data.records {
        wire::chat::Records::Balance(_) => Intent::Balance.label(),
        wire::chat::Records::Orders { .. } => Intent::Orders.label(),
        wire::chat::Records::Profile(_) => Intent::Profile.label(),
    }
}

/// The body as a [`ChatRequest`].
fn read_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<ChatRequest, Failure> {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Failure::UnsupportedMediaType);
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::TooLarge
        } else {
            Failure::BadRequest(format!(
                "the body could not be read: {}",
                rejection.body_text()
            ))
        }
    })?;
    serde_json::from_slice(&body).map_err(|error| {
        Failure::BadRequest(bounded(&format!(
            "the body must be {{\"message\": \"...\"}} and nothing else: {error}"
        )))
    })
}

/// Ends step 12: rejected for a verdict on the credentials, failed when they could not be
/// judged (the issuer's keys unavailable).
fn end_credentials(step: StepTimer, error: &OAuthError) {
    let _record = if error.status().is_server_error() {
        step.failed(CHECK_12, &error.to_string())
    } else {
        step.rejected(CHECK_12, &error.to_string())
    };
}

fn fail(timeline: Timeline, failure: Failure) -> FailedChat {
    FailedChat {
        failure,
        steps: timeline.into_json(),
    }
}

/// Step 14 failed: rejected when the IAM refused (its step 15 refused the request), failed
/// when it could not be reached or answered something unusable.
fn iam_failed(
    step: StepTimer,
    error: IamError,
    took: Duration,
    mut timeline: Timeline,
) -> FailedChat {
    if error.is_refusal() {
        timeline.push(step.rejected(CHECK_14, &error.to_string()));
        timeline.report(
            steps::WORKLOAD_VERIFIED,
            Outcome::Rejected,
            CHECK_15,
            Some("the internal IAM refused the request"),
            took,
        );
    } else {
        timeline.push(step.failed(CHECK_14, &error.to_string()));
    }
    fail(timeline, Failure::Iam(error))
}

/// Step 17 failed at Agent A (reported on its behalf: its refusal is a status, not a record),
/// with the gRPC code only; Agent A's message went to the log.
fn agent_a_failed(error: AgentAError, took: Duration, mut timeline: Timeline) -> FailedChat {
    let outcome = if error.is_credential_refusal() {
        Outcome::Rejected
    } else {
        Outcome::Failed
    };
    let detail = match &error {
        AgentAError::Status(status) => format!("Agent A answered {:?}", status.code()),
        other => other.to_string(),
    };
    timeline.report(
        steps::CALLER_VERIFIED,
        outcome,
        "the call from Agent B",
        Some(&detail),
        took,
    );
    fail(timeline, Failure::AgentA(error))
}

/// Text that quotes the client's input, bounded for the response body.
fn bounded(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    text.chars().take(MAX_CHARS).collect()
}
