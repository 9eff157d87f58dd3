//! Strict reading of the [`Intent`] enum from a request.
//!
//! Protobuf keeps unknown enum values as plain integers and prost's generated getter maps them to
//! the default, `UNSPECIFIED`. A server must not guess what an unknown value meant, so requests
//! are read through [`Intent::from_wire`], which rejects both.

use crate::grpc::account::v1::Intent;

/// Why a request's intent was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIntent {
    /// The field was left at its default.
    #[error("intent is required")]
    Unspecified,
    /// A value this version does not know.
    #[error("intent {0} is not known")]
    Unknown(i32),
}

impl Intent {
    /// Every intent a request may carry.
    pub const REQUESTABLE: [Self; 3] = [Self::Balance, Self::Orders, Self::Profile];

    /// The intent of a request's raw field value.
    pub fn from_wire(raw: i32) -> Result<Self, InvalidIntent> {
        match Self::try_from(raw) {
            Ok(Self::Unspecified) => Err(InvalidIntent::Unspecified),
            Ok(intent) => Ok(intent),
            Err(_) => Err(InvalidIntent::Unknown(raw)),
        }
    }

    /// A lower-case label for logs and the timeline: `balance`, `orders`, `profile`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Balance => "balance",
            Self::Orders => "orders",
            Self::Profile => "profile",
        }
    }
}

impl From<InvalidIntent> for tonic::Status {
    fn from(error: InvalidIntent) -> Self {
        tonic::Status::invalid_argument(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_requestable_intent() {
        for intent in Intent::REQUESTABLE {
            assert_eq!(Intent::from_wire(intent as i32), Ok(intent));
        }
    }

    #[test]
    fn rejects_unspecified() {
        assert_eq!(Intent::from_wire(0), Err(InvalidIntent::Unspecified));
        let status = tonic::Status::from(InvalidIntent::Unspecified);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "intent is required");
    }

    #[test]
    fn rejects_unknown_values() {
        assert_eq!(Intent::from_wire(4), Err(InvalidIntent::Unknown(4)));
        assert_eq!(Intent::from_wire(-7), Err(InvalidIntent::Unknown(-7)));
        assert_eq!(
            tonic::Status::from(InvalidIntent::Unknown(4)).message(),
            "intent 4 is not known"
        );
    }
}
