//! Clients refused at the TLS handshake (no certificate, another CA, expired, another trust
//! domain): no request was read, but the refusal is still audited and reported as a rejected
//! step 15, under a request id of its own.

use telemetry::{RequestId, StepTimer, SystemRandom};
use tokens::SharedClock;
use wire::{Program, steps};
use workload_identity::{HandshakeRefusal, RefusalReason, SvidError};

use crate::audit::{AuditEvent, AuditLog, Outcome};

/// The hook for [`workload_identity::MtlsAcceptor::on_refusal`].
pub(crate) fn refusal_hook(
    audit: AuditLog,
    clock: SharedClock,
) -> impl Fn(&HandshakeRefusal) + Send + Sync + 'static {
    let rng = SystemRandom::new();
    move |refusal| {
        let reason = format!("TLS handshake refused: {}", refusal.reason);
        if let Ok(request_id) = RequestId::generate(&rng) {
            StepTimer::start(Program::InternalIam, steps::WORKLOAD_VERIFIED, &request_id)
                .rejected("client SVID at the TLS handshake", &reason);
        }
        let mut event = AuditEvent::new(Outcome::Refused, clock.now(), reason);
        event.peer_addr = Some(refusal.remote_addr.to_string());
        event.spiffe_id = match &refusal.reason {
            RefusalReason::InvalidSvid(SvidError::NotAuthorized { peer }) => Some(peer.to_string()),
            _ => None,
        };
        audit.record_detached(event);
    }
}
