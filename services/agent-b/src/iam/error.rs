//! Why the internal IAM gave no usable token.

/// Why a token request failed. `Display` never contains a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// No answer: the connection could not be made, broke, or timed out.
    #[error("the internal IAM is unreachable: {0}")]
    Unreachable(String),
    /// The IAM answered with an OAuth error (RFC 6749 §5.2).
    #[error("the internal IAM refused the {grant} request with HTTP {status}: {error}{}",
        .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        grant: &'static str,
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// The IAM answered something that is not a usable token response.
    #[error("the internal IAM's answer to the {grant} request is unusable: {reason}")]
    Malformed { grant: &'static str, reason: String },
    #[error("no random bytes for the child trace context")]
    Randomness,
}

impl IamError {
    /// Whether the IAM is down or overloaded, rather than refusing: the request may work later
    /// without anyone changing anything (503 to the caller).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Refused { status, .. } => *status == 503,
            Self::Malformed { .. } | Self::Randomness => false,
        }
    }

    /// Whether the IAM refused for a security reason (a 4xx OAuth error): the workload's
    /// registration, or the customer's token as the IAM judged it.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused { status, .. } if (400..500).contains(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_outages_and_refusals() {
        let refused = |status| IamError::Refused {
            grant: "client_credentials",
            status,
            error: "invalid_client".into(),
            description: Some("not registered".into()),
        };
        assert!(IamError::Unreachable("connection refused".into()).is_unavailable());
        assert!(refused(503).is_unavailable());
        assert!(!refused(400).is_unavailable());
        assert!(refused(400).is_refusal());
        assert!(!refused(500).is_refusal());
        assert_eq!(
            refused(400).to_string(),
            "the internal IAM refused the client_credentials request with HTTP 400: \
             invalid_client (not registered)"
        );
    }
}
