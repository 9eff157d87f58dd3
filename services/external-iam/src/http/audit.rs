//! Audit events from handlers: written to the audit table and to the log, with the request's
//! address and id.

use super::request::RequestMeta;
use crate::state::Shared;
use crate::store::audit::{self, AuditEvent, AuditKind};

/// An audit event pre-filled with the request's address and id.
pub fn meta_event(meta: &RequestMeta) -> AuditEvent {
    AuditEvent {
        ip: Some(meta.ip.clone()),
        request_id: Some(meta.request_id.as_str().to_owned()),
        ..AuditEvent::default()
    }
}

/// Records an audit event. A failure to record is logged loudly but does not fail the request:
/// the event is also in the log line.
pub async fn audit_event(state: &Shared, kind: AuditKind, event: AuditEvent) {
    log_audit(kind, &event);
    if let Err(error) = audit::record(state.pool(), &state.rng, kind, &event, state.now()).await {
        tracing::error!(%error, event = kind.as_str(), "the audit event could not be stored");
    }
}

/// Records an audit event in the caller's transaction: it commits with what it describes.
pub async fn audit_in(
    state: &Shared,
    conn: &mut sqlx::AnyConnection,
    kind: AuditKind,
    event: AuditEvent,
) -> Result<(), crate::store::StoreError> {
    log_audit(kind, &event);
    audit::record(conn, &state.rng, kind, &event, state.now()).await
}

fn log_audit(kind: AuditKind, event: &AuditEvent) {
    tracing::info!(
        target: "audit",
        event = kind.as_str(),
        client_id = event.client_id.as_deref(),
        user_id = event.user_id.as_deref(),
        username = event.username.as_deref(),
        ip = event.ip.as_deref(),
        reason = event.reason.as_deref(),
        "audit"
    );
}
