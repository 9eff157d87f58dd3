//! `X-Request-Context`: the request id and `traceparent` on the web app → Agent B hop (design
//! step 12). It carries correlation data only, never a credential or personal data.
//!
//! Encoding: `rid="<request id>", tp="<traceparent>"`, an RFC 9651 (Structured Field Values)
//! dictionary of two strings, in this order, with exactly this spacing. Decoding accepts only
//! this canonical spelling; other spellings a generic structured-field parser would accept
//! (reordered members, extra whitespace or parameters) are refused. Only this crate writes the
//! header, and a single accepted spelling leaves no room for two parsers to disagree.

use crate::request_id::{InvalidRequestId, RequestId};
use crate::traceparent::{InvalidTraceParent, TraceParent};
use std::fmt;

/// The correlation context of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The request id.
    pub request_id: RequestId,
    /// The trace context of the sending hop.
    pub traceparent: TraceParent,
}

/// Why an `X-Request-Context` value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequestContext {
    /// Longer than [`RequestContext::MAX_ENCODED_LEN`].
    #[error("request context is too long")]
    TooLong,
    /// Not of the form `rid="…", tp="…"`.
    #[error("request context is not of the form rid=\"...\", tp=\"...\"")]
    Malformed,
    /// The `rid` member is not a valid request id.
    #[error("request context rid: {0}")]
    RequestId(InvalidRequestId),
    /// The `tp` member is not a valid `traceparent`.
    #[error("request context tp: {0}")]
    TraceParent(InvalidTraceParent),
}

const RID_PREFIX: &str = "rid=\"";
const TP_SEPARATOR: &str = "\", tp=\"";
const SUFFIX: &str = "\"";

impl RequestContext {
    /// Upper bound on an encoded value: a maximal request id and a version-00 traceparent fit.
    pub const MAX_ENCODED_LEN: usize = 160;

    /// Bundles a request id and trace context.
    pub fn new(request_id: RequestId, traceparent: TraceParent) -> Self {
        Self {
            request_id,
            traceparent,
        }
    }

    /// The header value. Both members are validated types whose text has no `"` or `\`, so they
    /// need no escaping inside the strings.
    pub fn encode(&self) -> String {
        self.to_string()
    }

    /// Parses the canonical encoding.
    pub fn decode(value: &str) -> Result<Self, InvalidRequestContext> {
        if value.len() > Self::MAX_ENCODED_LEN {
            return Err(InvalidRequestContext::TooLong);
        }
        let (rid, tp) = value
            .strip_prefix(RID_PREFIX)
            .and_then(|rest| rest.strip_suffix(SUFFIX))
            .and_then(|inner| inner.split_once(TP_SEPARATOR))
            .ok_or(InvalidRequestContext::Malformed)?;
        let request_id = RequestId::parse(rid).map_err(InvalidRequestContext::RequestId)?;
        let traceparent = TraceParent::parse(tp).map_err(InvalidRequestContext::TraceParent)?;
        Ok(Self::new(request_id, traceparent))
    }
}

impl fmt::Display for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{RID_PREFIX}{}{TP_SEPARATOR}{}{SUFFIX}",
            self.request_id, self.traceparent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RID: &str = "Yv1cS0rT3x8Q2mNp4LkJdA";
    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn context() -> RequestContext {
        RequestContext::new(
            RequestId::parse(RID).unwrap(),
            TraceParent::parse(TP).unwrap(),
        )
    }

    #[test]
    fn encodes_canonically_and_round_trips() {
        let encoded = context().encode();
        assert_eq!(
            encoded,
            r#"rid="Yv1cS0rT3x8Q2mNp4LkJdA", tp="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01""#
        );
        assert_eq!(RequestContext::decode(&encoded), Ok(context()));
    }

    #[test]
    fn a_maximal_context_fits_the_bound() {
        let ctx = RequestContext::new(
            RequestId::parse(&"a".repeat(RequestId::MAX_LEN)).unwrap(),
            TraceParent::parse(TP).unwrap(),
        );
        let encoded = ctx.encode();
        assert!(encoded.len() <= RequestContext::MAX_ENCODED_LEN);
        assert_eq!(RequestContext::decode(&encoded), Ok(ctx));
    }

    #[test]
    fn rejects_overlong_values_before_parsing() {
        let value = format!("rid=\"{}\", tp=\"{TP}\"", "a".repeat(200));
        assert_eq!(
            RequestContext::decode(&value),
            Err(InvalidRequestContext::TooLong)
        );
    }

    #[test]
    fn rejects_other_spellings() {
        let cases = [
            String::new(),
            format!("tp=\"{TP}\", rid=\"{RID}\""),
            format!("rid=\"{RID}\",tp=\"{TP}\""),
            format!("rid=\"{RID}\",  tp=\"{TP}\""),
            format!(" rid=\"{RID}\", tp=\"{TP}\""),
            format!("rid=\"{RID}\", tp=\"{TP}\" "),
            format!("rid=\"{RID}\", tp=\"{TP}\";x=1"),
            format!("rid={RID}, tp={TP}"),
            format!("rid=\"{RID}\""),
            format!("RID=\"{RID}\", tp=\"{TP}\""),
        ];
        for value in cases {
            assert_eq!(
                RequestContext::decode(&value),
                Err(InvalidRequestContext::Malformed),
                "{value}"
            );
        }
    }

    #[test]
    fn rejects_an_invalid_request_id() {
        let value = format!("rid=\"short\", tp=\"{TP}\"");
        assert_eq!(
            RequestContext::decode(&value),
            Err(InvalidRequestContext::RequestId(InvalidRequestId::TooShort))
        );
        let value = format!("rid=\"{RID}\\\"x\", tp=\"{TP}\"");
        assert_eq!(
            RequestContext::decode(&value),
            Err(InvalidRequestContext::RequestId(
                InvalidRequestId::InvalidCharacter(22)
            ))
        );
    }

    #[test]
    fn rejects_an_invalid_traceparent() {
        let value = format!(
            "rid=\"{RID}\", tp=\"00-00000000000000000000000000000000-00f067aa0ba902b7-01\""
        );
        assert_eq!(
            RequestContext::decode(&value),
            Err(InvalidRequestContext::TraceParent(
                InvalidTraceParent::ZeroTraceId
            ))
        );
    }

    #[test]
    fn a_second_tp_member_lands_in_the_traceparent_and_is_rejected() {
        let value = format!("rid=\"{RID}\", tp=\"{TP}\", tp=\"{TP}\"");
        assert_eq!(
            RequestContext::decode(&value),
            Err(InvalidRequestContext::TraceParent(
                InvalidTraceParent::Length
            ))
        );
    }

    /// Deterministic mutations of a valid header (xorshift64*, fixed seed): decoding never
    /// panics, and an accepted value is the canonical dictionary around exactly the request id
    /// it yields (the traceparent may be of a future version, which is re-sent as version 00).
    #[test]
    fn mutated_headers_never_panic_and_yield_exactly_what_they_spell() {
        const ALPHABET: &[char] = &['a', '0', '-', '_', '"', ',', ' ', '=', ';', '\n', 'é'];
        let mut state: u64 = 0xbb67_ae85_84ca_a73b;
        let mut below = |n: usize| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            usize::try_from(state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64).unwrap()
        };
        let valid = context().encode();
        let mut accepted = 0;
        for _ in 0..6000 {
            let mut chars: Vec<char> = valid.chars().collect();
            for _ in 0..=below(2) {
                let at = below(chars.len() + 1);
                match below(4) {
                    0 if at < chars.len() => chars[at] = ALPHABET[below(ALPHABET.len())],
                    1 => chars.insert(at, ALPHABET[below(ALPHABET.len())]),
                    2 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ => chars.truncate(at),
                }
            }
            let value: String = chars.into_iter().collect();
            if let Ok(decoded) = RequestContext::decode(&value) {
                accepted += 1;
                let tp = value
                    .strip_prefix(&format!("rid=\"{}\", tp=\"", decoded.request_id))
                    .and_then(|rest| rest.strip_suffix('"'))
                    .unwrap_or_else(|| panic!("{value:?}"));
                assert!(!tp.contains('"'), "{value:?}");
                assert_eq!(TraceParent::parse(tp), Ok(decoded.traceparent), "{value:?}");
            }
        }
        // Mutations inside the request id (or of a digit of the ids) keep it valid.
        assert!(accepted > 100, "{accepted}");
    }
}
