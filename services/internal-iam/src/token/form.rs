//! The token request body: `application/x-www-form-urlencoded` (RFC 6749 §3.2), read strictly.

use http::HeaderMap;
use http::header::CONTENT_TYPE;

use super::Refusal;

/// The largest body accepted. A subject token is at most 8 KiB (the token validator's bound);
/// everything else in a token request is a few hundred bytes.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024;

/// Parameters that may appear more than once: several target services (RFC 8707 §2 for
/// `resource`, RFC 8693 §2.1 for `audience`). Every other parameter must not repeat (RFC 6749
/// §3.2).
const REPEATABLE: [&str; 2] = ["resource", "audience"];

/// A decoded form.
#[derive(Debug)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Checks the content type and decodes `body`, refusing repeated parameters.
    pub(crate) fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, Refusal> {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(Refusal::invalid_request(
                "the token request must be application/x-www-form-urlencoded",
            ));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            // The decoder replaces invalid UTF-8 with U+FFFD; a parameter that needed it was
            // not text, and is refused rather than compared in a mangled form.
            if is_lossy(&name) || is_lossy(&value) {
                return Err(Refusal::invalid_request("a parameter is not valid UTF-8"));
            }
            if !REPEATABLE.contains(&name.as_ref()) && pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(Refusal::invalid_request(format!(
                    "the parameter {} appears more than once",
                    printable(&name)
                )));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// The value of a single-valued parameter. An empty value counts as absent (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(seen, value)| seen == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// Every non-empty value of a repeatable parameter.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.pairs
            .iter()
            .filter(move |(seen, value)| seen == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// Whether the parameter was sent with a value.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

fn is_lossy(text: &str) -> bool {
    text.contains('\u{FFFD}')
}

/// A parameter name for an error message: short, and only visible ASCII.
pub(crate) fn printable(text: &str) -> String {
    const MAX_CHARS: usize = 100;
    let mut cleaned: String = text
        .chars()
        .take(MAX_CHARS)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        cleaned.push_str("...");
    }
    format!("`{cleaned}`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn form_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=UTF-8"),
        );
        headers
    }

    #[test]
    fn decodes_and_treats_empty_values_as_absent() {
        let form = Form::parse(
            &form_headers(),
            b"grant_type=client_credentials&scope=a+b&audience=x&audience=y&client_id=",
        )
        .unwrap();
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), Some("a b"));
        assert_eq!(form.all("audience").collect::<Vec<_>>(), ["x", "y"]);
        assert!(!form.has("client_id"));
    }

    #[test]
    fn refuses_repeats_other_media_types_and_invalid_utf8() {
        let twice = Form::parse(&form_headers(), b"scope=a&scope=b").unwrap_err();
        assert!(twice.reason.contains("`scope` appears more than once"));
        let json = Form::parse(&HeaderMap::new(), b"{}").unwrap_err();
        assert!(json.reason.contains("x-www-form-urlencoded"));
        let bytes = Form::parse(&form_headers(), b"scope=%FF").unwrap_err();
        assert!(bytes.reason.contains("UTF-8"));
    }
}
