//! The gRPC form of an [`OAuthError`], for the same rejection on a gRPC edge.

use super::OAuthError;
use crate::error_code::ErrorCode;
use tonic::{Code, Status};

impl OAuthError {
    /// The gRPC code: who you are → `UNAUTHENTICATED`, what you may do → `PERMISSION_DENIED`,
    /// what you sent → `INVALID_ARGUMENT`, our side → `UNAVAILABLE` / `INTERNAL`.
    pub fn grpc_code(&self) -> Code {
        let Some(code) = self.inner.code else {
            return Code::Unauthenticated;
        };
        match code {
            ErrorCode::InvalidToken
            | ErrorCode::InvalidClient
            | ErrorCode::InvalidDpopProof
            | ErrorCode::UseDpopNonce => Code::Unauthenticated,
            ErrorCode::InsufficientScope
            | ErrorCode::AccessDenied
            | ErrorCode::UnauthorizedClient
            | ErrorCode::InvalidTarget => Code::PermissionDenied,
            ErrorCode::InvalidRequest
            | ErrorCode::InvalidGrant
            | ErrorCode::InvalidScope
            | ErrorCode::UnsupportedGrantType
            | ErrorCode::UnsupportedResponseType => Code::InvalidArgument,
            ErrorCode::TemporarilyUnavailable => Code::Unavailable,
            ErrorCode::ServerError => Code::Internal,
        }
    }
}

/// The message is the OAuth code and description (`invalid_token: the token has expired`), the
/// same text the HTTP body carries and nothing more.
impl From<OAuthError> for Status {
    fn from(error: OAuthError) -> Self {
        Status::new(error.grpc_code(), error.to_string())
    }
}
