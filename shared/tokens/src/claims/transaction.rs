//! The transaction token (draft-ietf-oauth-transaction-tokens): the customer's context inside
//! the trust domain.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::audience::one_or_many;
use super::numeric_date;
use super::{Audience, Scopes};

/// Claims of a transaction token (`typ: txntoken+jwt`), minted by the internal IAM from the
/// customer's access token (step 14) and carried as `x-user-context` past Agent B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionTokenClaims {
    pub iss: String,
    /// The trust domain the token is valid in (the draft requires `aud` to name it).
    pub aud: Audience,
    #[serde(deserialize_with = "numeric_date::required")]
    pub iat: i64,
    #[serde(deserialize_with = "numeric_date::required")]
    pub exp: i64,
    /// The transaction id: this system's request id (RFC 8417 §2.2 `txn`).
    pub txn: String,
    /// The customer the transaction acts for.
    pub sub: String,
    /// The scopes the transaction may use: at most the customer's.
    pub scope: Scopes,
    /// Transaction context: immutable facts about the request (the customer's scopes and
    /// issuer here). The draft requires an object.
    pub tctx: Map<String, Value>,
    /// Requester context, if the issuer recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rctx: Option<Map<String, Value>>,
    /// The workload(s) that asked for this token.
    pub req_wl: RequestingWorkloads,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// `req_wl`: the workload that requested the transaction token, as a string; a token replaced
/// on the way down the call chain lists every requester in order, as an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestingWorkloads(Vec<String>);

impl RequestingWorkloads {
    /// A single requester.
    pub fn one(workload: impl Into<String>) -> Self {
        Self(vec![workload.into()])
    }

    /// The workload that requested *this* token: the last one listed. A receiver compares it
    /// with the SPIFFE ID of its peer.
    pub fn latest(&self) -> &str {
        self.0.last().map_or("", String::as_str)
    }

    /// Every requester, first to last.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl Serialize for RequestingWorkloads {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RequestingWorkloads {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        one_or_many(
            deserializer,
            "a workload identifier or a non-empty array of them",
        )
        .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_transaction_token_and_its_requester() {
        let claims: TransactionTokenClaims = serde_json::from_value(json!({
            "iss": "https://internal-iam", "aud": "example.org", "iat": 1000, "exp": 1060,
            "txn": "req-1", "sub": "alice", "scope": "chatbot:access",
            "tctx": {"scope": "chatbot:access agent:invoke", "iss": "https://iam.example"},
            "req_wl": "spiffe://example.org/ns/namespace-b/sa/agent-b"
        }))
        .unwrap();
        assert_eq!(
            claims.req_wl.latest(),
            "spiffe://example.org/ns/namespace-b/sa/agent-b"
        );
        assert!(claims.aud.contains("example.org"));
        let chain: RequestingWorkloads = serde_json::from_value(json!(["a", "b"])).unwrap();
        assert_eq!(chain.latest(), "b");
    }

    #[test]
    fn tctx_must_be_an_object() {
        let err = serde_json::from_value::<TransactionTokenClaims>(json!({
            "iss": "i", "aud": "d", "iat": 1, "exp": 2, "txn": "t", "sub": "s",
            "scope": "a", "tctx": "not an object", "req_wl": "w"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
