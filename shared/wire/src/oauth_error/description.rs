//! `error_description` values that are safe in a JSON body and in a `WWW-Authenticate` header.

use std::borrow::Cow;
use std::fmt;

/// A human-readable error description (RFC 6749 §5.2, RFC 6750 §3).
///
/// Both RFCs restrict it to `%x20-21 / %x23-5B / %x5D-7E`: printable ASCII without `"` and `\`.
/// Construction enforces that by turning `"` into `'` (messages quote values with `{:?}`, and
/// the quoting should survive as quoting), every other character outside the set into `?`, and
/// cutting the text at [`ErrorDescription::MAX_LEN`] characters, so a description that quotes
/// attacker input (an unknown `kid`, say) can never break out of a quoted string, add a header
/// line or grow a response without bound. Descriptions are built by this system's code, so constructing one does
/// not fail: an error path that can itself fail would hide the original error.
///
/// Never put a secret in a description: it is sent to the client and written to logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorDescription(Cow<'static, str>);

impl ErrorDescription {
    /// Upper bound on the length, in characters (and bytes: every kept character is ASCII).
    pub const MAX_LEN: usize = 200;

    /// Keeps `text` if it is already within the allowed set, otherwise a cleaned copy.
    pub fn new(text: impl Into<Cow<'static, str>>) -> Self {
        let text = text.into();
        if text.len() <= Self::MAX_LEN && text.bytes().all(is_allowed) {
            return Self(text);
        }
        let cleaned = text
            .chars()
            .take(Self::MAX_LEN)
            .map(|c| match u8::try_from(c) {
                Ok(b) if is_allowed(b) => c,
                Ok(b'"') => '\'',
                _ => '?',
            })
            .collect();
        Self(Cow::Owned(cleaned))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ErrorDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for ErrorDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&'static str> for ErrorDescription {
    fn from(text: &'static str) -> Self {
        Self::new(text)
    }
}

impl From<String> for ErrorDescription {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

/// `%x20-21 / %x23-5B / %x5D-7E` (RFC 6749 §5.2).
const fn is_allowed(b: u8) -> bool {
    matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_allowed_text_unchanged_and_borrowed() {
        let description = ErrorDescription::new("The access token expired");
        assert_eq!(description.as_str(), "The access token expired");
        assert!(matches!(description.0, Cow::Borrowed(_)));
    }

    #[test]
    fn replaces_quotes_backslashes_and_control_characters() {
        let description = ErrorDescription::new(String::from("kid \"x\"\\\r\nSet-Cookie: a=b\t"));
        assert_eq!(description.as_str(), "kid 'x'???Set-Cookie: a=b?");
    }

    #[test]
    fn replaces_non_ascii_characters_one_for_one() {
        assert_eq!(ErrorDescription::new("schlüssel ☃").as_str(), "schl?ssel ?");
    }

    #[test]
    fn cuts_long_text() {
        let description = ErrorDescription::new("x".repeat(1000));
        assert_eq!(description.as_str().len(), ErrorDescription::MAX_LEN);
    }
}
