//! The edge error of the gRPC service: every reason a call fails, with its gRPC status.
//!
//! The message is specific and safe to send: it names the check that failed and why, never a
//! token. The same text is the step event's detail and the audit row's reason.
//!
//! Codes follow the split the OAuth edge of the shared `wire` crate makes (RFC 6750 §3.1 carried
//! over to gRPC): a credential that is missing, malformed, invalid, expired, bound to another
//! certificate or issued to another workload is `UNAUTHENTICATED`; a valid service token
//! without the `cross-namespace:invoke` scope is `PERMISSION_DENIED` (RFC 6750's
//! `insufficient_scope`, HTTP 403: the caller is known and lacks the permission); keys that
//! cannot be fetched are `UNAVAILABLE`, since the token was never judged.

use telemetry::propagation::PropagationError;
use tokens::ValidationError;
use tonic::{Code, Status};
use wire::InvalidIntent;

use crate::caller::CallerError;
use crate::service_a2::ServiceA2Error;
use crate::user_context::UserContextError;

/// Why a call was not answered.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The request did not come through the mutual-TLS acceptor (a wiring mistake).
    #[error("no verified peer identity on this connection")]
    NoPeerIdentity,
    #[error("x-request-id and traceparent are required on this internal call")]
    MissingCorrelation,
    #[error(transparent)]
    Correlation(#[from] PropagationError),
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error(transparent)]
    UserContext(#[from] UserContextError),
    #[error(transparent)]
    Intent(#[from] InvalidIntent),
    #[error(transparent)]
    ServiceA2(#[from] ServiceA2Error),
}

impl Refusal {
    pub fn code(&self) -> Code {
        match self {
            Self::NoPeerIdentity => Code::Unauthenticated,
            Self::MissingCorrelation | Self::Correlation(_) | Self::Intent(_) => {
                Code::InvalidArgument
            }
            Self::Caller(CallerError::Invalid(ValidationError::InsufficientScope(_))) => {
                Code::PermissionDenied
            }
            Self::Caller(CallerError::Invalid(ValidationError::KeysUnavailable(_))) => {
                Code::Unavailable
            }
            Self::Caller(_) => Code::Unauthenticated,
            Self::UserContext(error) if error.is_unavailable() => Code::Unavailable,
            Self::UserContext(_) => Code::Unauthenticated,
            Self::ServiceA2(error) => error.code(),
        }
    }

    /// Whether a check refused the request (a rejection), rather than the request not being
    /// served for another reason: no account, this side or a dependency failing.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self.code(),
            Code::Unauthenticated | Code::PermissionDenied | Code::InvalidArgument
        )
    }
}

impl From<Refusal> for Status {
    fn from(refusal: Refusal) -> Self {
        Status::new(refusal.code(), refusal.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_map_to_their_codes() {
        let cases = [
            (CallerError::Missing, Code::Unauthenticated),
            (
                CallerError::Invalid(ValidationError::Expired { exp: 1, now: 2 }),
                Code::Unauthenticated,
            ),
            (
                CallerError::NotBoundToConnection { jti: "t".into() },
                Code::Unauthenticated,
            ),
            (
                CallerError::Invalid(ValidationError::InsufficientScope(
                    "cross-namespace:invoke".into(),
                )),
                Code::PermissionDenied,
            ),
            (
                CallerError::Invalid(ValidationError::KeysUnavailable("down".into())),
                Code::Unavailable,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(Refusal::from(error).code(), code);
        }
    }

    #[test]
    fn messages_name_the_check_and_never_a_token() {
        let status = Status::from(Refusal::from(CallerError::Invalid(
            ValidationError::WrongAudience {
                expected: "agent-service-a".into(),
            },
        )));
        assert_eq!(
            status.message(),
            "the service token was refused: the audience does not include \"agent-service-a\""
        );
        let status = Status::from(Refusal::from(ServiceA2Error::Status(Status::not_found(
            "no account is held for this customer",
        ))));
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(
            status.message(),
            "Service A2 answered NotFound: no account is held for this customer"
        );
        let denied = Refusal::from(ServiceA2Error::Status(Status::permission_denied("x")));
        assert_eq!(denied.code(), Code::Internal);
        assert!(!denied.is_rejection());
    }
}
