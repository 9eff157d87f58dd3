//! The `aud` claim (RFC 7519 §4.1.3).

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One or more audiences. RFC 7519 §4.1.3 allows a single string or an array of strings;
/// both forms are read, and a single audience is written as a plain string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(Vec<String>);

impl Audience {
    /// A single audience.
    pub fn one(audience: impl Into<String>) -> Self {
        Self(vec![audience.into()])
    }

    /// Several audiences; `None` for an empty list, which would name no one.
    pub fn many(audiences: Vec<String>) -> Option<Self> {
        (!audiences.is_empty()).then_some(Self(audiences))
    }

    /// Whether `audience` is one of them (exact, case-sensitive comparison: RFC 7519 §4.1.3
    /// treats audience values as case-sensitive strings).
    pub fn contains(&self, audience: &str) -> bool {
        self.0.iter().any(|a| a == audience)
    }

    /// All audiences, in token order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        one_or_many(
            deserializer,
            "an audience string or a non-empty array of them",
        )
        .map(Self)
    }
}

/// Reads a string or a non-empty array of strings (the `StringOrURI` / array shape JWT uses for
/// `aud`, and transaction tokens for `req_wl`).
pub(crate) fn one_or_many<'de, D: Deserializer<'de>>(
    deserializer: D,
    expecting: &'static str,
) -> Result<Vec<String>, D::Error> {
    struct OneOrMany(&'static str);
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_owned()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
            while let Some(one) = seq.next_element::<String>()? {
                all.push(one);
            }
            if all.is_empty() {
                return Err(de::Error::invalid_length(0, &self));
            }
            Ok(all)
        }
    }
    deserializer.deserialize_any(OneOrMany(expecting))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms_and_writes_one_as_a_string() {
        let one: Audience = serde_json::from_str(r#""agent-b""#).unwrap();
        assert!(one.contains("agent-b"));
        assert_eq!(serde_json::to_string(&one).unwrap(), r#""agent-b""#);
        let many: Audience = serde_json::from_str(r#"["a","agent-b"]"#).unwrap();
        assert!(many.contains("agent-b") && !many.contains("Agent-B"));
        assert_eq!(serde_json::to_string(&many).unwrap(), r#"["a","agent-b"]"#);
    }

    #[test]
    fn empty_and_mistyped_audiences_are_refused() {
        assert!(serde_json::from_str::<Audience>("[]").is_err());
        assert!(serde_json::from_str::<Audience>("[1]").is_err());
        assert!(serde_json::from_str::<Audience>("{}").is_err());
        assert!(Audience::many(vec![]).is_none());
    }
}
