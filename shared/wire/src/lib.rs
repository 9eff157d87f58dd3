//! The shared vocabulary: gRPC definitions, header and metadata names, claim names, scopes and error codes.
//!
//! Everything two programs must agree on is defined here once, with the document section it comes
//! from, so no service spells a header, a claim or an error code as a string literal of its own.
//!
//! - [`grpc`]: the generated gRPC services and messages (`proto/*.proto`).
//! - [`headers`], [`metadata`]: HTTP header names and gRPC metadata keys.
//! - [`claims`], [`jose`], [`scopes`], [`audiences`]: JWT and JOSE vocabulary.
//! - [`GrantType`], [`TokenType`], [`AuthScheme`], [`ErrorCode`]: OAuth protocol identifiers.
//! - [`OAuthError`]: the edge error of OAuth-speaking HTTP endpoints, also convertible to a
//!   `tonic::Status`.
//! - [`steps`], [`Program`]: the 23-step catalogue and the programs that perform it.
//! - [`chat`]: the JSON of Agent B's chat API, which the web app calls.

pub mod audiences;
pub mod auth_scheme;
pub mod chat;
pub mod claims;
pub mod dpop_nonce;
pub mod error_code;
pub mod grant_types;
pub mod grpc;
pub mod headers;
pub mod intent;
pub mod jose;
pub mod metadata;
pub mod oauth_error;
pub mod programs;
pub mod scopes;
pub mod steps;
pub mod timeline;
pub mod token_types;

pub use auth_scheme::{AuthScheme, Credentials, CredentialsError};
pub use dpop_nonce::{DpopNonce, InvalidDpopNonce};
pub use error_code::ErrorCode;
pub use grant_types::{GrantType, UnsupportedGrantType};
pub use grpc::account::v1::Intent;
pub use grpc::timeline::v1::{Outcome, StepRecord};
pub use intent::InvalidIntent;
pub use oauth_error::{
    BearerChallenge, ChallengeError, DpopChallenge, ErrorBody, ErrorDescription, OAuthError,
};
pub use programs::{Namespace, Program};
pub use steps::{Phase, Step};
pub use timeline::InvalidStepRecord;
pub use token_types::{TokenType, UnsupportedTokenType};
