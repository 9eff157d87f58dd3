//! The edge error of the chat API.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use wire::chat::{ChatError, TimelineStep, codes};
use wire::headers::{CACHE_CONTROL, NO_STORE};
use wire::{ErrorCode, OAuthError};

use crate::agent_a::AgentAError;
use crate::iam::IamError;

/// The edge error of the chat API: every way a chat request fails, with its HTTP status and
/// JSON body.
///
/// Failures of the customer's credentials (step 12) are [`OAuthError`]s with their
/// `WWW-Authenticate: DPoP` challenge, exactly as RFC 6750 §3.1 and RFC 9449 §7.1 say. Every
/// other failure is a [`ChatError`] body with the same `error` / `error_description` members and
/// the steps up to the failure:
///
/// | failure | status | `error` |
/// |---|---|---|
/// | the caller's SPIFFE ID is not allowed | 403 | `access_denied` |
/// | `X-Request-Context` malformed, body not `{"message": "..."}`, message empty, too long or with control characters | 400 | `invalid_request` |
/// | body over 4 KiB | 413 | `invalid_request` |
/// | body not `application/json` | 415 | `invalid_request` |
/// | the internal IAM or Agent A cannot be reached, or is overloaded | 503 | `temporarily_unavailable` |
/// | the internal IAM refused to issue tokens, Agent A refused Agent B's credentials, or either answered something unusable | 502 | `upstream_error` |
/// | the customer holds no account | 404 | `no_account` |
/// | anything else | 500 | `server_error` |
///
/// The description says what failed without the internals behind it; the log line has the
/// cause (the IAM's or Agent A's own message).
#[derive(Debug)]
pub enum Failure {
    /// Step 12 refused the customer's credentials, or could not check them.
    Credentials(OAuthError),
    /// The caller's SPIFFE ID is not on the allow-list.
    CallerNotAllowed(String),
    BadRequest(String),
    TooLarge,
    UnsupportedMediaType,
    Iam(IamError),
    AgentA(AgentAError),
    Internal(String),
}

/// A failure and the steps the request went through before it.
#[derive(Debug)]
pub struct FailedChat {
    pub failure: Failure,
    pub steps: Vec<TimelineStep>,
}

impl Failure {
    /// With no steps (before step 12 completed).
    pub fn alone(self) -> FailedChat {
        FailedChat {
            failure: self,
            steps: Vec::new(),
        }
    }

    fn status_and_body(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::Credentials(error) => (
                error.status(),
                error.code().map_or("", ErrorCode::as_str),
                error
                    .description()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            Self::CallerNotAllowed(peer) => (
                StatusCode::FORBIDDEN,
                ErrorCode::AccessDenied.as_str(),
                format!("{peer} may not call Agent B's chat API"),
            ),
            Self::BadRequest(why) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidRequest.as_str(),
                why.clone(),
            ),
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::InvalidRequest.as_str(),
                format!(
                    "the body is larger than {} bytes",
                    wire::chat::MAX_BODY_BYTES
                ),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::InvalidRequest.as_str(),
                "the body must be application/json".to_owned(),
            ),
            Self::Iam(error) if error.is_unavailable() => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::TemporarilyUnavailable.as_str(),
                "account data is unavailable right now: the internal token service cannot be \
                 reached. Please try again in a moment."
                    .to_owned(),
            ),
            Self::Iam(_) => (
                StatusCode::BAD_GATEWAY,
                codes::UPSTREAM_ERROR,
                "account data is unavailable: the internal token service did not issue the \
                 tokens Agent B asked for"
                    .to_owned(),
            ),
            Self::AgentA(error) if error.is_unavailable() => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::TemporarilyUnavailable.as_str(),
                "account data is unavailable right now: Agent A cannot be reached. Please try \
                 again in a moment."
                    .to_owned(),
            ),
            Self::AgentA(error) if error.is_not_found() => (
                StatusCode::NOT_FOUND,
                codes::NO_ACCOUNT,
                "no account data is held for this customer".to_owned(),
            ),
            Self::AgentA(error) if error.is_credential_refusal() => (
                StatusCode::BAD_GATEWAY,
                codes::UPSTREAM_ERROR,
                "account data is unavailable: Agent A refused Agent B's credentials".to_owned(),
            ),
            Self::AgentA(_) => (
                StatusCode::BAD_GATEWAY,
                codes::UPSTREAM_ERROR,
                "account data is unavailable: Agent A's answer could not be used".to_owned(),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::ServerError.as_str(),
                "Agent B could not answer".to_owned(),
            ),
        }
    }
}

impl std::fmt::Display for Failure {
    /// The cause, for the log line and the failed step's detail.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Credentials(error) => write!(f, "{error}"),
            Self::CallerNotAllowed(peer) => write!(f, "{peer} is not an allowed caller"),
            Self::BadRequest(why) => f.write_str(why),
            Self::TooLarge => f.write_str("the body is too large"),
            Self::UnsupportedMediaType => f.write_str("the body is not application/json"),
            Self::Iam(error) => write!(f, "{error}"),
            Self::AgentA(error) => write!(f, "{error}"),
            Self::Internal(why) => f.write_str(why),
        }
    }
}

impl IntoResponse for FailedChat {
    fn into_response(self) -> Response {
        // The credential errors keep their own response: challenge, no-store, RFC 6750 body.
        if let Failure::Credentials(error) = self.failure {
            return error.into_response();
        }
        let (status, error, description) = self.failure.status_and_body();
        let body = ChatError {
            error: error.to_owned(),
            error_description: Some(description),
            steps: self.steps,
        };
        let mut response = (status, Json(body)).into_response();
        // Error bodies can describe a customer's request; no cache may keep them.
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    fn status_of(failure: Failure) -> (StatusCode, &'static str) {
        let (status, error, _) = failure.status_and_body();
        (status, error)
    }

    #[test]
    fn failures_map_to_their_statuses() {
        let agent_a = |code| Failure::AgentA(AgentAError::Status(Status::new(code, "why")));
        assert_eq!(
            status_of(agent_a(Code::Unauthenticated)),
            (StatusCode::BAD_GATEWAY, "upstream_error")
        );
        assert_eq!(
            status_of(agent_a(Code::PermissionDenied)),
            (StatusCode::BAD_GATEWAY, "upstream_error")
        );
        assert_eq!(
            status_of(agent_a(Code::Unavailable)),
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        );
        assert_eq!(
            status_of(agent_a(Code::NotFound)),
            (StatusCode::NOT_FOUND, "no_account")
        );
        assert_eq!(
            status_of(Failure::AgentA(AgentAError::OtherCustomer)),
            (StatusCode::BAD_GATEWAY, "upstream_error")
        );
        assert_eq!(
            status_of(Failure::Iam(IamError::Unreachable("refused".into()))),
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        );
        assert_eq!(
            status_of(Failure::Iam(IamError::Refused {
                grant: "client_credentials",
                status: 400,
                error: "invalid_client".into(),
                description: None,
            })),
            (StatusCode::BAD_GATEWAY, "upstream_error")
        );
    }

    #[test]
    fn descriptions_never_carry_upstream_messages() {
        let failure = Failure::AgentA(AgentAError::Status(Status::unauthenticated(
            "the service token was refused: secret detail",
        )));
        let (_, _, description) = failure.status_and_body();
        assert!(!description.contains("secret detail"));
        assert!(failure.to_string().contains("secret detail"));
    }
}
