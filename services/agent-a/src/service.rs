//! `agent_a.v1.AgentA/GetAccountData`: design steps 17, 18 and 21.
//!
//! In order, each with the status it fails with:
//!
//! 1. `x-request-id` and `traceparent` are present and valid (`INVALID_ARGUMENT`): every later
//!    log line and the audit row are keyed by them;
//! 2. the service token, and its binding to this connection ([`crate::caller`]);
//! 3. the user context, and that it was minted for this peer ([`crate::user_context`]);
//!
//! — step 17, audited whatever its outcome —
//!
//! 4. the intent is one Service A2 answers (`INVALID_ARGUMENT`);
//! 5. Service A2 is called with the user context unchanged (step 18), and its answer checked;
//! 6. the answer and the steps of every hop go back (step 21).

use telemetry::propagation::grpc as propagation;
use telemetry::{RequestContext, RequestId, StepTimer, SystemRandom};
use tokens::SharedClock;
use tonic::metadata::AsciiMetadataValue;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;
use wire::grpc::agent_a::v1::agent_a_server::AgentA;
use wire::grpc::agent_a::v1::{AccountDataRequest, AccountDataResponse};
use wire::metadata::USER_CONTEXT;
use wire::{Intent, Program, StepRecord, steps};
use workload_identity::PeerIdentity;

use crate::audit::{AuditEvent, AuditLog, Decision};
use crate::caller::{ServiceTokenValidator, VerifiedCaller};
use crate::refusal::Refusal;
use crate::service_a2::ServiceA2;
use crate::user_context::{UserContextError, UserContextValidator, VerifiedCustomer};

const PROGRAM: Program = Program::AgentA;
const STEP_17_CHECK: &str = "service token, certificate binding and user context";

/// The gRPC service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AccountDataService {
    callers: ServiceTokenValidator,
    user_context: UserContextValidator,
    service_a2: ServiceA2,
    audit: AuditLog,
    clock: SharedClock,
    rng: SystemRandom,
}

/// What step 17 established.
struct Verified {
    context: RequestContext,
    caller: VerifiedCaller,
    customer: VerifiedCustomer,
    /// `x-user-context` exactly as received, for Service A2.
    user_context: AsciiMetadataValue,
}

impl AccountDataService {
    pub fn new(
        callers: ServiceTokenValidator,
        user_context: UserContextValidator,
        service_a2: ServiceA2,
        audit: AuditLog,
        clock: SharedClock,
    ) -> Self {
        Self {
            callers,
            user_context,
            service_a2,
            audit,
            clock,
            rng: SystemRandom::new(),
        }
    }

    /// Step 17, with its audit row.
    async fn authorize(
        &self,
        request: &Request<AccountDataRequest>,
        correlation: Result<Option<RequestContext>, Refusal>,
        request_id: &RequestId,
    ) -> Result<(Verified, StepRecord), Refusal> {
        let step = StepTimer::start(PROGRAM, steps::CALLER_VERIFIED, request_id);
        let mut event = AuditEvent::new(Decision::Refused, self.clock.now(), "");
        let outcome = self.verify(request, correlation, &mut event).await;
        match outcome {
            Ok(verified) => {
                event.decision = Decision::Allowed.as_str().to_owned();
                event.reason = format!(
                    "service token bound to {} and user context for it verified",
                    verified.caller.spiffe_id()
                );
                self.audit.record(event).await;
                let record = step.ok_with_detail(
                    STEP_17_CHECK,
                    &format!("caller {}", verified.caller.spiffe_id()),
                );
                Ok((verified, record))
            }
            Err(refusal) => {
                event.reason = refusal.to_string();
                self.audit.record(event).await;
                Err(end(step, STEP_17_CHECK, refusal))
            }
        }
    }

    /// The checks of step 17, filling in the audit row as each verified fact becomes known.
    async fn verify(
        &self,
        request: &Request<AccountDataRequest>,
        correlation: Result<Option<RequestContext>, Refusal>,
        event: &mut AuditEvent,
    ) -> Result<Verified, Refusal> {
        let peer = request
            .extensions()
            .get::<PeerIdentity>()
            .ok_or(Refusal::NoPeerIdentity)?;
        event.peer = Some(peer.spiffe_id().to_string());
        let context = correlation?.ok_or(Refusal::MissingCorrelation)?;
        event.request_id = Some(context.request_id.to_string());

        let caller = self
            .callers
            .verify(peer, request.metadata())
            .await
            .inspect_err(|error| {
                event.service_token_jti = error.verified_jti().map(str::to_owned);
            })?;
        event.service_token_jti = Some(caller.jti().to_owned());

        let customer = self
            .user_context
            .verify(peer, request.metadata())
            .await
            .inspect_err(|error| {
                if let Some(customer) = error.verified_customer() {
                    record_customer(event, customer);
                }
            })?;
        record_customer(event, &customer);
        tracing::info!(
            caller = %caller.spiffe_id(),
            service_token_jti = caller.jti(),
            subject = customer.subject(),
            txn = customer.txn(),
            txn_token_jti = customer.jti(),
            "caller and customer verified"
        );
        // Present: the validator just read it.
        let user_context =
            request
                .metadata()
                .get(USER_CONTEXT)
                .cloned()
                .ok_or(UserContextError::Token(
                    mesh::user_context::UserContextError::Missing,
                ))?;
        Ok(Verified {
            context,
            caller,
            customer,
            user_context,
        })
    }

    async fn get(
        &self,
        request: Request<AccountDataRequest>,
        correlation: Result<Option<RequestContext>, Refusal>,
        request_id: RequestId,
    ) -> Result<AccountDataResponse, Refusal> {
        let (verified, authorized) = self.authorize(&request, correlation, &request_id).await?;

        let step = StepTimer::start(PROGRAM, steps::SERVICE_A2_CALLED, &request_id);
        // The customer's chat message is not read: whose records is the verified user
        // context's answer, and which records the intent's, chosen by Agent B.
        let intent = match Intent::from_wire(request.get_ref().intent) {
            Ok(intent) => intent,
            Err(error) => return Err(end(step, "intent", error)),
        };
        let answer = self
            .service_a2
            .records(
                intent,
                verified.user_context,
                &verified.context,
                verified.customer.subject(),
            )
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => return Err(end(step, "Service A2's answer", error)),
        };
        let called = step.ok_with_detail(
            "Service A2 called over mesh mTLS with the user context unchanged",
            intent.label(),
        );

        let step = StepTimer::start(PROGRAM, steps::AGENT_A_RESPONDED, &request_id);
        let mut steps = Vec::with_capacity(answer.steps.len() + 3);
        steps.push(authorized);
        steps.push(called);
        steps.extend(answer.steps);
        let data = answer.data;
        steps.push(step.ok("the verified customer's records returned to the caller"));
        Ok(AccountDataResponse { data, steps })
    }
}

#[tonic::async_trait]
impl AgentA for AccountDataService {
    async fn get_account_data(
        &self,
        request: Request<AccountDataRequest>,
    ) -> Result<Response<AccountDataResponse>, Status> {
        let correlation = propagation::extract(request.metadata()).map_err(Refusal::from);
        let request_id = match &correlation {
            Ok(Some(context)) => context.request_id.clone(),
            // A refused call still gets an id of its own for its log lines.
            _ => RequestId::generate(&self.rng)
                .map_err(|error| Status::internal(error.to_string()))?,
        };
        let span = match &correlation {
            Ok(Some(context)) => telemetry::request_span(context),
            _ => tracing::info_span!("request", request_id = request_id.as_str()),
        };
        self.get(request, correlation, request_id)
            .instrument(span)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}

fn record_customer(event: &mut AuditEvent, customer: &VerifiedCustomer) {
    event.subject = Some(customer.subject().to_owned());
    event.txn = Some(customer.txn().to_owned());
    event.txn_token_jti = customer.jti().map(str::to_owned);
}

/// Ends `step` with the refusal (rejected when a check refused the call, failed otherwise); the
/// step event is the log line with the reason.
fn end(step: StepTimer, check: &str, refusal: impl Into<Refusal>) -> Refusal {
    let refusal = refusal.into();
    let _record = if refusal.is_rejection() {
        step.rejected(check, &refusal.to_string())
    } else {
        step.failed(check, &refusal.to_string())
    };
    refusal
}
