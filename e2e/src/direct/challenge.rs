//! A `WWW-Authenticate` challenge read into its scheme and parameters (RFC 9110 §11.6.1), so a
//! test asserts each parameter RFC 6750 §3 and RFC 9449 §7.1 name rather than a string layout.

use std::collections::BTreeMap;

/// One challenge: `<scheme> name="value", name=value, ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// As sent; compare case-insensitively (RFC 9110 §11.1).
    pub scheme: String,
    /// Parameter names lower-cased (they are case-insensitive), values unquoted.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// Reads one challenge; `None` if `value` is not `<scheme> [auth-params]`.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let (scheme, mut rest) = match value.split_once(' ') {
            Some((scheme, rest)) => (scheme, rest.trim_start()),
            None => (value, ""),
        };
        if scheme.is_empty() || !scheme.bytes().all(is_tchar) {
            return None;
        }
        let mut params = BTreeMap::new();
        while !rest.is_empty() {
            let (name, after) = rest.split_once('=')?;
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return None;
            }
            let after = after.trim_start();
            let (param, remainder) = match after.strip_prefix('"') {
                Some(quoted) => quoted_string(quoted)?,
                None => {
                    let end = after.find(',').unwrap_or(after.len());
                    (after[..end].trim().to_owned(), &after[end..])
                }
            };
            params.insert(name.to_ascii_lowercase(), param);
            rest = remainder.trim_start();
            match rest.strip_prefix(',') {
                Some(next) => rest = next.trim_start(),
                None if rest.is_empty() => {}
                None => return None,
            }
        }
        Some(Self {
            scheme: scheme.to_owned(),
            params,
        })
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Whether the scheme is `scheme` (case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

/// The rest of a quoted-string after its opening quote: the unescaped value and what follows
/// the closing quote.
fn quoted_string(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[at + 1..])),
            '\\' => value.push(chars.next()?.1),
            other => value.push(other),
        }
    }
    None
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rfc_9449_example() {
        let challenge = Challenge::parse(
            r#"DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256""#,
        )
        .unwrap();
        assert!(challenge.is("dpop"));
        assert_eq!(challenge.param("error"), Some("invalid_token"));
        assert_eq!(
            challenge.param("Error_Description"),
            Some("Invalid DPoP key binding")
        );
        assert_eq!(challenge.param("algs"), Some("ES256"));
    }

    #[test]
    fn unescapes_and_accepts_tokens() {
        let challenge =
            Challenge::parse(r#"Bearer realm="a \"b\" \\ c", error=invalid_token"#).unwrap();
        assert_eq!(challenge.param("realm"), Some(r#"a "b" \ c"#));
        assert_eq!(challenge.param("error"), Some("invalid_token"));
        assert_eq!(Challenge::parse("DPoP").unwrap().params.len(), 0);
    }

    #[test]
    fn refuses_what_is_not_a_challenge() {
        for value in [
            "",
            "DPoP realm=\"open",
            "DPoP realm=\"a\" junk",
            "=realm",
            "DPoP =x",
        ] {
            assert_eq!(Challenge::parse(value), None, "{value:?}");
        }
    }
}
