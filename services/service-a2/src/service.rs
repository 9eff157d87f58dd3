//! `service_a2.v1.ServiceA2/GetRecords`: design steps 19 and 20.
//!
//! The checks, in order, each with the status it fails with:
//!
//! 1. the peer's SPIFFE ID is on the allow-list (`PERMISSION_DENIED`, naming the peer);
//! 2. `x-request-id` and `traceparent` are present and valid (`INVALID_ARGUMENT`);
//! 3. `x-user-context` holds a valid transaction token (`UNAUTHENTICATED` with the reason;
//!    `UNAVAILABLE` if the IAM's keys cannot be fetched) — step 19 ends here;
//! 4. the intent is one this service answers (`INVALID_ARGUMENT`);
//! 5. the customer has an account (`NOT_FOUND`) — step 20 returns their records.
//!
//! The peer check comes first because it depends on nothing the caller sends: a workload that
//! may not call learns nothing else about the service.

use telemetry::propagation::grpc as propagation;
use telemetry::{RequestContext, RequestId, StepTimer, SystemRandom};
use tonic::{Request, Response, Status};
use tracing::Instrument as _;
use wire::grpc::service_a2::v1::service_a2_server::ServiceA2;
use wire::grpc::service_a2::v1::{RecordsRequest, RecordsResponse};
use wire::{Intent, Program, steps};

use crate::peer::PeerAllowList;
use crate::records::{Records, RecordsError};
use crate::refusal::Refusal;
use crate::user_context::UserContextValidator;

const PROGRAM: Program = Program::ServiceA2;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct RecordsService {
    peers: PeerAllowList,
    user_context: UserContextValidator,
    records: Records,
    rng: SystemRandom,
}

impl RecordsService {
    pub fn new(peers: PeerAllowList, user_context: UserContextValidator, records: Records) -> Self {
        Self {
            peers,
            user_context,
            records,
            rng: SystemRandom::new(),
        }
    }

    async fn get(
        &self,
        request: Request<RecordsRequest>,
        correlation: Result<Option<RequestContext>, Refusal>,
        request_id: RequestId,
    ) -> Result<RecordsResponse, Refusal> {
        let step = StepTimer::start(PROGRAM, steps::PEER_AUTHORIZED, &request_id);
        let peer = match self.peers.authorize(request.extensions()) {
            Ok(peer) => peer,
            Err(refusal) => return Err(refuse(step, "peer SPIFFE ID on the allow-list", refusal)),
        };
        if let Err(refusal) = correlation.and_then(|found| found.ok_or(Refusal::MissingCorrelation))
        {
            return Err(refuse(step, "request id and traceparent", refusal));
        }
        let customer = match self.user_context.verify(request.metadata()).await {
            Ok(customer) => customer,
            Err(error) => return Err(refuse(step, "user context (transaction token)", error)),
        };
        let authorized = step.ok_with_detail(
            "peer on the allow-list; customer read from the verified transaction token",
            &format!("peer {}", peer.spiffe_id()),
        );
        tracing::info!(
            peer = %peer.spiffe_id(),
            subject = customer.subject(),
            txn = customer.txn(),
            txn_token_jti = customer.jti(),
            "caller authorized"
        );

        let step = StepTimer::start(PROGRAM, steps::RECORDS_RETURNED, &request_id);
        let intent = match Intent::from_wire(request.get_ref().intent) {
            Ok(intent) => intent,
            Err(error) => return Err(refuse(step, "intent", error)),
        };
        let data = match self.records.for_intent(customer.subject(), intent).await {
            Ok(data) => data,
            Err(error) => {
                if let RecordsError::Database(cause) = &error {
                    tracing::error!(error = %cause, "reading the records failed");
                }
                return Err(refuse(step, "the verified customer's records", error));
            }
        };
        let returned = step.ok_with_detail("the verified customer's records", intent.label());
        Ok(RecordsResponse {
            data: Some(data),
            steps: vec![authorized, returned],
        })
    }
}

#[tonic::async_trait]
impl ServiceA2 for RecordsService {
    async fn get_records(
        &self,
        request: Request<RecordsRequest>,
    ) -> Result<Response<RecordsResponse>, Status> {
        // Read before anything else so every event of the call carries its request id; judged
        // only after the peer check (see the module documentation).
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

/// Ends `step` with the refusal (rejected when a check refused the call, failed otherwise) and
/// returns it; the step event is the log line with the reason.
fn refuse(step: StepTimer, check: &str, refusal: impl Into<Refusal>) -> Refusal {
    let refusal = refusal.into();
    let _record = if refusal.is_rejection() {
        step.rejected(check, &refusal.message())
    } else {
        step.failed(check, &refusal.message())
    };
    refusal
}
