//! The edge error of the gRPC service: every reason a call fails, with its gRPC status.
//!
//! The status message is specific and safe to send: it names the check that failed and why, and
//! never a token. The same text goes into the step event and the log line.

use telemetry::propagation::PropagationError;
use tonic::{Code, Status};
use wire::InvalidIntent;

use crate::peer::PeerRefusal;
use crate::records::RecordsError;
use crate::user_context::UserContextError;

/// Why a call was not answered.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Peer(#[from] PeerRefusal),
    #[error("x-request-id and traceparent are required on this internal call")]
    MissingCorrelation,
    #[error(transparent)]
    Correlation(#[from] PropagationError),
    #[error(transparent)]
    UserContext(#[from] UserContextError),
    #[error(transparent)]
    Intent(#[from] InvalidIntent),
    #[error(transparent)]
    Records(#[from] RecordsError),
}

impl Refusal {
    /// Who you are → `UNAUTHENTICATED`, what you may do → `PERMISSION_DENIED`, what you sent →
    /// `INVALID_ARGUMENT`, our side → `UNAVAILABLE` / `INTERNAL`.
    pub fn code(&self) -> Code {
        match self {
            Self::Peer(PeerRefusal::NotAllowed { .. }) => Code::PermissionDenied,
            Self::Peer(PeerRefusal::NoIdentity) => Code::Unauthenticated,
            Self::MissingCorrelation | Self::Correlation(_) | Self::Intent(_) => {
                Code::InvalidArgument
            }
            Self::UserContext(error) if error.is_unavailable() => Code::Unavailable,
            Self::UserContext(_) => Code::Unauthenticated,
            Self::Records(RecordsError::NoAccount) => Code::NotFound,
            Self::Records(RecordsError::Unanswerable(_)) => Code::InvalidArgument,
            Self::Records(RecordsError::Database(_)) => Code::Internal,
        }
    }

    /// Whether a check refused the call (a rejection), rather than the call not being served
    /// for another reason: no account, or this side failing.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self.code(),
            Code::Unauthenticated | Code::PermissionDenied | Code::InvalidArgument
        )
    }

    /// The message sent to the caller. A database failure's cause stays in the log.
    pub fn message(&self) -> String {
        match self {
            Self::Records(RecordsError::Database(_)) => {
                "the records could not be read; the cause is in Service A2's log".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl From<Refusal> for Status {
    fn from(refusal: Refusal) -> Self {
        Status::new(refusal.code(), refusal.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokens::ValidationError;
    use workload_identity::SpiffeId;

    #[test]
    fn each_refusal_has_its_code_and_a_message_naming_the_check() {
        let agent_b = SpiffeId::parse("spiffe://demo.test/ns/namespace-b/sa/agent-b").unwrap();
        let denied = Status::from(Refusal::from(PeerRefusal::NotAllowed { peer: agent_b }));
        assert_eq!(denied.code(), Code::PermissionDenied);
        assert_eq!(
            denied.message(),
            "spiffe://demo.test/ns/namespace-b/sa/agent-b is not allowed to call Service A2 \
             (it is not on the allow-list)"
        );
        let expired = Status::from(Refusal::from(UserContextError::Invalid(
            ValidationError::Expired { exp: 1, now: 2 },
        )));
        assert_eq!(expired.code(), Code::Unauthenticated);
        assert_eq!(
            expired.message(),
            "the transaction token in x-user-context was refused: the token expired at 1 (now 2)"
        );
        let down = Refusal::from(UserContextError::Invalid(ValidationError::KeysUnavailable(
            "timeout".into(),
        )));
        assert_eq!(down.code(), Code::Unavailable);
        assert_eq!(
            Refusal::from(RecordsError::NoAccount).code(),
            Code::NotFound
        );
        let database = Refusal::from(RecordsError::Database(sqlx::Error::RowNotFound));
        assert_eq!(database.code(), Code::Internal);
        assert!(!database.message().contains("RowNotFound"));
    }
}
