//! Space-separated scope lists (RFC 6749 §3.3), as the `scope` claim carries them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a scope string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("the scope string is empty")]
    Empty,
    #[error("the scope string has an empty scope token (a leading, trailing or doubled space)")]
    EmptyToken,
    #[error("a scope token contains a character outside RFC 6749's NQCHAR")]
    InvalidCharacter,
}

/// The scopes a token grants: `scope-token *( SP scope-token )` (RFC 6749 §3.3), read strictly,
/// one space between tokens, each token printable ASCII without `"` or `\`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a `scope` value.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        if text.is_empty() {
            return Err(ScopeError::Empty);
        }
        text.split(' ')
            .map(|token| {
                if token.is_empty() {
                    Err(ScopeError::EmptyToken)
                } else if !token.bytes().all(is_nqchar) {
                    Err(ScopeError::InvalidCharacter)
                } else {
                    Ok(token.to_owned())
                }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether the exact scope token `scope` is granted (comparison is case-sensitive,
    /// RFC 6749 §3.3).
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// The first of `required` that is not granted, if any.
    pub fn first_missing<'r>(&self, required: &[&'r str]) -> Option<&'r str> {
        required.iter().copied().find(|scope| !self.contains(scope))
    }

    /// The scope tokens, in token order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// `NQCHAR = %x21 / %x23-5B / %x5D-7E` (RFC 6749 Appendix A.4).
fn is_nqchar(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

impl FromStr for Scopes {
    type Err = ScopeError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
        }
        Ok(())
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_answers_membership_exactly() {
        let scopes = Scopes::parse("openid chatbot:access agent:invoke").unwrap();
        assert!(scopes.contains("agent:invoke"));
        assert!(!scopes.contains("agent"));
        assert!(!scopes.contains("Agent:invoke"));
        assert_eq!(scopes.first_missing(&["openid", "admin"]), Some("admin"));
        assert_eq!(scopes.to_string(), "openid chatbot:access agent:invoke");
        let json = serde_json::to_string(&scopes).unwrap();
        assert_eq!(serde_json::from_str::<Scopes>(&json).unwrap(), scopes);
    }

    #[test]
    fn malformed_scope_strings_are_refused() {
        assert_eq!(Scopes::parse(""), Err(ScopeError::Empty));
        assert_eq!(Scopes::parse("a  b"), Err(ScopeError::EmptyToken));
        assert_eq!(Scopes::parse(" a"), Err(ScopeError::EmptyToken));
        assert_eq!(Scopes::parse("a\tb"), Err(ScopeError::InvalidCharacter));
        assert_eq!(Scopes::parse("a\"b"), Err(ScopeError::InvalidCharacter));
        assert_eq!(
            Scopes::parse("caf\u{e9}"),
            Err(ScopeError::InvalidCharacter)
        );
    }
}
