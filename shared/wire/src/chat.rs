//! Agent B's chat API: the JSON the web app sends to `POST /v1/chat` and the JSON it gets back
//! (design steps 12 and 22).
//!
//! The request carries only the customer's message; who the customer is travels in the
//! `Authorization: DPoP` token and its proof, and the correlation ids in `X-Request-Context`.
//!
//! A success is [`ChatResponse`]: the answer, the account records it was built from (when Agent A
//! was asked), and the timeline of the steps this request went through from step 12 on, in
//! order, so the web app can show them beside the answer. A failure is [`ChatError`]: the OAuth
//! error body of RFC 6749 §5.2 (`error`, `error_description`), which is also what a 401 or 403
//! from the token checks carries, plus the steps up to the failure when there were any.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::grpc::account::v1 as account;
use crate::grpc::timeline::v1::{Outcome, StepRecord};
use crate::timeline::InvalidStepRecord;

/// The path of the chat endpoint.
pub const PATH: &str = "/v1/chat";

/// The longest message accepted, in characters. A chat line, not a document.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// The largest request body accepted, in bytes: a message of [`MAX_MESSAGE_CHARS`] characters of
/// up to four UTF-8 bytes each, with room for JSON escapes.
pub const MAX_BODY_BYTES: usize = 4 * 1024;

/// `error` codes of chat failures that are not OAuth errors. The OAuth ones (`invalid_token`,
/// `invalid_dpop_proof`, `insufficient_scope`, `invalid_request`, `access_denied`,
/// `temporarily_unavailable`, `server_error`) are [`crate::ErrorCode`]s.
pub mod codes {
    /// 404: the customer is authenticated but holds no account.
    pub const NO_ACCOUNT: &str = "no_account";
    /// 502: a service behind Agent B refused or answered something unusable.
    pub const UPSTREAM_ERROR: &str = "upstream_error";
}

/// The request body of `POST /v1/chat`. Unknown members are refused: the only input is the
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// What the customer typed: 1 to [`MAX_MESSAGE_CHARS`] characters, not all whitespace.
    pub message: String,
}

/// Why a [`ChatRequest`] is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMessage {
    #[error("the message is empty")]
    Empty,
    #[error("the message is longer than {MAX_MESSAGE_CHARS} characters")]
    TooLong,
    #[error("the message contains control characters")]
    ControlCharacters,
}

impl ChatRequest {
    /// The message, trimmed, if it is acceptable: not empty, at most [`MAX_MESSAGE_CHARS`]
    /// characters, and no control characters other than line breaks and tabs (they have no place
    /// in a chat line and would only end up in logs and pages).
    pub fn checked_message(&self) -> Result<&str, InvalidMessage> {
        let message = self.message.trim();
        if message.is_empty() {
            return Err(InvalidMessage::Empty);
        }
        if message.chars().nth(MAX_MESSAGE_CHARS).is_some() {
            return Err(InvalidMessage::TooLong);
        }
        if message
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(InvalidMessage::ControlCharacters);
        }
        Ok(message)
    }
}

/// The body of a successful `POST /v1/chat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The chatbot's answer, plain text (the web app escapes it when it renders it).
    pub answer: String,
    /// The records the answer was built from, when the message needed account data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<AccountData>,
    /// The steps of this request from step 12 on, in order, including the ones that were not
    /// needed (outcome `skipped`) and the ones served from a cache (`cached`).
    pub steps: Vec<TimelineStep>,
}

/// The body of a failed `POST /v1/chat`: RFC 6749 §5.2's error members, and the steps up to the
/// failure when the request got past the token checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatError {
    /// An OAuth error code ([`crate::ErrorCode`]) or one of [`codes`].
    pub error: String,
    /// What went wrong, for people; never a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<TimelineStep>,
}

/// One step of the timeline: a [`StepRecord`] as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineStep {
    /// The step's number in [`crate::steps`], 1 to 23.
    pub step: u32,
    /// The program that performed it.
    pub service: String,
    /// The check made, in a few words.
    pub check: String,
    /// `ok`, `rejected`, `skipped`, `cached` or `failed` ([`Outcome::label`]).
    #[serde(with = "outcome_label")]
    pub outcome: Outcome,
    /// Wall time the program spent on the step, in milliseconds.
    pub duration_ms: f64,
    /// More about the outcome (the reason for a rejection or a skip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl TryFrom<&StepRecord> for TimelineStep {
    type Error = InvalidStepRecord;

    /// A record as JSON, once [`StepRecord::checked`] accepts it.
    fn try_from(record: &StepRecord) -> Result<Self, Self::Error> {
        let (step, outcome) = record.checked()?;
        Ok(Self {
            step: u32::from(step.number()),
            service: record.service.clone(),
            check: record.check.clone(),
            outcome,
            // Microseconds to milliseconds; exact for any duration a request can take.
            duration_ms: record.duration_us as f64 / 1000.0,
            detail: record.detail.clone(),
        })
    }
}

impl From<&TimelineStep> for StepRecord {
    fn from(step: &TimelineStep) -> Self {
        let micros = (step.duration_ms * 1000.0).round();
        Self {
            step: step.step,
            service: step.service.clone(),
            check: step.check.clone(),
            outcome: step.outcome as i32,
            // `as` saturates: a negative or NaN duration becomes 0, a huge one `u64::MAX`.
            duration_us: micros as u64,
            detail: step.detail.clone(),
        }
    }
}

/// The records of one customer for one intent, as Agent A returned them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountData {
    /// The customer the records belong to (the `sub` of the verified transaction token). The web
    /// app can check it is the customer of its session.
    pub subject: String,
    pub records: Records,
}

/// Which records, tagged by `kind`: `balance`, `orders` or `profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Records {
    Balance(Money),
    Orders { orders: Vec<Order> },
    Profile(Profile),
}

/// An amount in the currency's minor unit (cents for EUR): money is never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    /// `YYYY-MM-DD`.
    pub placed_on: String,
    pub description: String,
    pub total: Money,
    /// For example `shipped`, `delivered`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub display_name: String,
    pub email: String,
    /// `YYYY-MM-DD`.
    pub member_since: String,
}

/// The gRPC answer had no records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the account data carries no records")]
pub struct NoRecords;

impl TryFrom<account::AccountData> for AccountData {
    type Error = NoRecords;

    fn try_from(data: account::AccountData) -> Result<Self, Self::Error> {
        use account::account_data::Records as Wire;
        let records = match data.records.ok_or(NoRecords)? {
            Wire::Balance(balance) => Records::Balance(Money {
                amount_minor: balance.amount_minor,
                currency: balance.currency,
            }),
            Wire::Orders(orders) => Records::Orders {
                orders: orders
                    .orders
                    .into_iter()
                    .map(|order| Order {
                        order_id: order.order_id,
                        placed_on: order.placed_on,
                        description: order.description,
                        total: Money {
                            amount_minor: order.total_minor,
                            currency: order.currency,
                        },
                        status: order.status,
                    })
                    .collect(),
            },
            Wire::Profile(profile) => Records::Profile(Profile {
                display_name: profile.display_name,
                email: profile.email,
                member_since: profile.member_since,
            }),
        };
        Ok(Self {
            subject: data.subject,
            records,
        })
    }
}

/// [`Outcome`] as its label; `unspecified` and unknown labels are refused when reading.
mod outcome_label {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        outcome: &Outcome,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(outcome.label())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Outcome, D::Error> {
        let label = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Outcome::from_label(&label)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown outcome {label:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(step: u32, outcome: Outcome) -> StepRecord {
        StepRecord {
            step,
            service: "agent-b".into(),
            check: "customer token and DPoP proof".into(),
            outcome: outcome as i32,
            duration_us: 1_250,
            detail: None,
        }
    }

    #[test]
    fn requests_carry_only_a_message() {
        let request: ChatRequest = serde_json::from_value(json!({"message": " hi "})).unwrap();
        assert_eq!(request.checked_message(), Ok("hi"));
        assert!(
            serde_json::from_value::<ChatRequest>(json!({"message": "hi", "user": "alice"}))
                .is_err()
        );
        assert!(serde_json::from_value::<ChatRequest>(json!({})).is_err());
    }

    #[test]
    fn messages_are_bounded_and_printable() {
        let check = |message: &str| {
            ChatRequest {
                message: message.to_owned(),
            }
            .checked_message()
            .map(str::to_owned)
        };
        assert_eq!(check("  \n "), Err(InvalidMessage::Empty));
        assert_eq!(
            check(&"é".repeat(MAX_MESSAGE_CHARS)),
            Ok("é".repeat(MAX_MESSAGE_CHARS))
        );
        assert_eq!(
            check(&"a".repeat(MAX_MESSAGE_CHARS + 1)),
            Err(InvalidMessage::TooLong)
        );
        assert_eq!(check("a\u{1b}[31m"), Err(InvalidMessage::ControlCharacters));
        assert_eq!(check("line one\nline two"), Ok("line one\nline two".into()));
    }

    #[test]
    fn timeline_steps_round_trip_through_json_and_records() {
        let step = TimelineStep::try_from(&record(12, Outcome::Cached)).unwrap();
        let value = serde_json::to_value(&step).unwrap();
        assert_eq!(
            value,
            json!({"step": 12, "service": "agent-b", "check": "customer token and DPoP proof",
                   "outcome": "cached", "duration_ms": 1.25})
        );
        let back: TimelineStep = serde_json::from_value(value).unwrap();
        assert_eq!(back, step);
        assert_eq!(StepRecord::from(&back), record(12, Outcome::Cached));
    }

    #[test]
    fn invalid_records_and_outcomes_are_refused() {
        assert_eq!(
            TimelineStep::try_from(&record(24, Outcome::Ok)),
            Err(InvalidStepRecord::UnknownStep(24))
        );
        assert_eq!(
            TimelineStep::try_from(&record(12, Outcome::Unspecified)),
            Err(InvalidStepRecord::MissingOutcome)
        );
        for outcome in ["unspecified", "OK", ""] {
            let value = json!({"step": 12, "service": "s", "check": "c", "outcome": outcome,
                               "duration_ms": 0.0});
            assert!(
                serde_json::from_value::<TimelineStep>(value).is_err(),
                "{outcome}"
            );
        }
    }

    #[test]
    fn account_data_is_tagged_by_kind() {
        let data = AccountData::try_from(account::AccountData {
            subject: "demo-user-alice".into(),
            records: Some(account::account_data::Records::Balance(account::Balance {
                amount_minor: 184_250,
                currency: "EUR".into(),
            })),
        })
        .unwrap();
        assert_eq!(
            serde_json::to_value(&data).unwrap(),
            json!({"subject": "demo-user-alice",
                   "records": {"kind": "balance", "amount_minor": 184_250, "currency": "EUR"}})
        );
        let orders = AccountData::try_from(account::AccountData {
            subject: "demo-user-bob".into(),
            records: Some(account::account_data::Records::Orders(account::Orders {
                orders: vec![account::Order {
                    order_id: "B-2001".into(),
                    placed_on: "2025-10-21".into(),
                    description: "Descaler".into(),
                    total_minor: 1850,
                    currency: "EUR".into(),
                    status: "processing".into(),
                }],
            })),
        })
        .unwrap();
        let value = serde_json::to_value(&orders).unwrap();
        assert_eq!(value["records"]["kind"], "orders");
        assert_eq!(value["records"]["orders"][0]["total"]["amount_minor"], 1850);
        assert_eq!(
            serde_json::from_value::<AccountData>(value).unwrap(),
            orders
        );
        assert_eq!(
            AccountData::try_from(account::AccountData {
                subject: "demo-user-bob".into(),
                records: None,
            }),
            Err(NoRecords)
        );
    }

    #[test]
    fn errors_leave_out_what_they_do_not_have() {
        let error = ChatError {
            error: codes::UPSTREAM_ERROR.into(),
            error_description: Some("Agent A refused the request".into()),
            steps: Vec::new(),
        };
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({"error": "upstream_error", "error_description": "Agent A refused the request"})
        );
        let oauth: ChatError = serde_json::from_value(json!({"error": "invalid_token"})).unwrap();
        assert_eq!(oauth.error_description, None);
    }
}
