//! Reading form fields out of the programs' pages, as a browser would: by the `name` attribute
//! of an `<input>`, whatever the attribute order, quoting or escaping the templates choose.

/// The `value` of the first `<input>` whose `name` is `name`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let mut rest = html;
    while let Some(start) = find_ascii_case_insensitive(rest, "<input") {
        let tag = &rest[start + "<input".len()..];
        let end = tag.find('>').unwrap_or(tag.len());
        let attributes = attributes(&tag[..end]);
        let named = attributes
            .iter()
            .any(|(key, value)| key.eq_ignore_ascii_case("name") && value == name);
        if named {
            return Some(
                attributes
                    .into_iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case("value"))
                    .map(|(_, value)| value)
                    .unwrap_or_default(),
            );
        }
        rest = &tag[end..];
    }
    None
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `key="value"`, `key='value'`, `key=value` and bare `key` attributes, values unescaped.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = tag.trim_end_matches('/').chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == '/').is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != '=' && *c != '/'))
                .collect();
        if key.is_empty() {
            return out;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let value = if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            match chars.next_if(|c| *c == '"' || *c == '\'') {
                Some(quote) => {
                    let value: String = chars.by_ref().take_while(|c| *c != quote).collect();
                    value
                }
                None => std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())).collect(),
            }
        } else {
            String::new()
        };
        out.push((key, unescape(&value)));
    }
}

/// The character references an HTML template escapes attribute values with.
fn unescape(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|end| *end <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "lt" => Some('<'),
            "gt" => Some('>'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_hidden_field_in_any_attribute_order() {
        let html = r#"<form><input type="hidden" name="csrf_token" value="abc-_123">
            <INPUT value='r&#x2F;1&amp;2' NAME=request type=hidden />
            <input name="username" autocomplete="username" required></form>"#;
        assert_eq!(input_value(html, "csrf_token").as_deref(), Some("abc-_123"));
        assert_eq!(input_value(html, "request").as_deref(), Some("r/1&2"));
        assert_eq!(input_value(html, "username").as_deref(), Some(""));
        assert_eq!(input_value(html, "password"), None);
    }

    #[test]
    fn a_name_must_match_exactly() {
        let html =
            r#"<input name="csrf_token_old" value="no"><input name="csrf_token" value="yes">"#;
        assert_eq!(input_value(html, "csrf_token").as_deref(), Some("yes"));
    }

    #[test]
    fn unescapes_character_references() {
        assert_eq!(unescape("a&lt;b&gt;&quot;&#39;&#X41;"), "a<b>\"'A");
        assert_eq!(unescape("AT&T &unknown; &"), "AT&T &unknown; &");
    }
}
