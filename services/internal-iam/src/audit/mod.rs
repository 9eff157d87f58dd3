//! The audit trail: one row per token issued and per request refused, with who asked (SPIFFE
//! ID), for what (audience, scope), the token's `jti`, the customer (`sub`) for exchanges, and
//! the reason. Tokens themselves are never recorded.
//!
//! Rows are written by a background [`AuditLog`] writer in batches, so the request path only
//! queues them; [`list`] reads them back (the `audit list` subcommand, and tests that count
//! issuances).

mod query;
mod writer;

use std::fmt;
use std::str::FromStr;

pub use query::{AuditQuery, list};
pub use writer::AuditLog;

/// Whether a token was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Issued,
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Refused => "refused",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "issued" => Ok(Self::Issued),
            "refused" => Ok(Self::Refused),
            _ => Err(format!("{text:?} is neither \"issued\" nor \"refused\"")),
        }
    }
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct AuditEvent {
    /// Set by the writer: sorts in recording order.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Seconds since the epoch (the IAM's clock).
    pub recorded_at: i64,
    pub outcome: String,
    /// `client_credentials`, the token-exchange URN, or absent for a refused TLS handshake
    /// or a request without a usable `grant_type`.
    pub grant_type: Option<String>,
    pub request_id: Option<String>,
    /// The caller's SPIFFE ID, when known.
    pub spiffe_id: Option<String>,
    pub peer_addr: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
    /// The issued token's id.
    pub jti: Option<String>,
    /// The customer (`sub` of the subject token), for exchanges.
    pub subject: Option<String>,
    /// The subject token's id, for exchanges.
    pub subject_jti: Option<String>,
    /// The OAuth error code of a refusal.
    pub error: Option<String>,
    /// What was decided and why.
    pub reason: String,
}

/// Caller-supplied text as it may be recorded: at most 256 characters, printable ASCII, other
/// characters replaced by `?`, so a hostile parameter can neither flood the table nor forge
/// lines in `audit list` output.
pub fn recorded(text: &str) -> String {
    text.chars()
        .take(256)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

impl AuditEvent {
    /// An event of `outcome` at `recorded_at`, the other fields to be filled in.
    pub fn new(outcome: Outcome, recorded_at: i64, reason: impl Into<String>) -> Self {
        Self {
            recorded_at,
            outcome: outcome.as_str().to_owned(),
            reason: reason.into(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_text_is_bounded_and_printable() {
        assert_eq!(
            recorded("cross-namespace:invoke a"),
            "cross-namespace:invoke a"
        );
        assert_eq!(
            recorded("x\n2026 issued forged\u{1b}[0m é"),
            "x?2026 issued forged?[0m ?"
        );
        assert_eq!(recorded(&"a".repeat(1000)).len(), 256);
    }
}
