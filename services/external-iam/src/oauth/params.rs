//! Request parameters of OAuth endpoints, read strictly.
//!
//! RFC 6749 §3.1 and §3.2: "Request and response parameters MUST NOT be included more than
//! once", and parameters sent without a value are treated as omitted. A repeated parameter is
//! refused rather than resolved by picking the first or last: two components (a proxy and this
//! server, say) picking differently is how parameter-pollution attacks work. Only `resource`
//! may repeat (RFC 8707 §2).

use std::collections::{HashMap, HashSet};

/// The one parameter allowed to repeat.
const MULTI_VALUED: &[&str] = &["resource"];

/// Why a parameter set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("the parameter `{0}` is repeated")]
    Repeated(String),
    #[error("the parameter `{0}` is missing")]
    Missing(&'static str),
}

/// Decoded `application/x-www-form-urlencoded` parameters (a query string or a form body).
#[derive(Debug, Clone, Default)]
pub struct Params {
    single: HashMap<String, String>,
    multi: HashMap<String, Vec<String>>,
}

impl Params {
    /// Parses `input`; empty values count as absent (RFC 6749 §3.1), but still count as a copy
    /// of their parameter: `redirect_uri=&redirect_uri=x` is a repeat, because a component that
    /// takes the first copy (empty, so the default) and one that takes the second disagree.
    pub fn parse(input: &[u8]) -> Result<Self, ParamsError> {
        let mut params = Self::default();
        let mut seen = HashSet::new();
        for (name, value) in url::form_urlencoded::parse(input) {
            if MULTI_VALUED.contains(&name.as_ref()) {
                if !value.is_empty() {
                    params
                        .multi
                        .entry(name.into_owned())
                        .or_default()
                        .push(value.into_owned());
                }
                continue;
            }
            if !seen.insert(name.to_string()) {
                return Err(ParamsError::Repeated(shorten(&name)));
            }
            if !value.is_empty() {
                params.single.insert(name.into_owned(), value.into_owned());
            }
        }
        Ok(params)
    }

    /// A single-valued parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.single.get(name).map(String::as_str)
    }

    /// A parameter that must be present.
    pub fn require(&self, name: &'static str) -> Result<&str, ParamsError> {
        self.get(name).ok_or(ParamsError::Missing(name))
    }

    /// Every value of a multi-valued parameter.
    pub fn all(&self, name: &str) -> &[String] {
        self.multi.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Parameter names come from the client; keep what reaches an error message short.
fn shorten(name: &str) -> String {
    name.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_and_treats_empty_as_absent() {
        let params = Params::parse(b"a=1&b=&c=x%20y&resource=r1&resource=r2").unwrap();
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get("c"), Some("x y"));
        assert_eq!(params.all("resource"), ["r1", "r2"]);
        assert_eq!(params.require("b"), Err(ParamsError::Missing("b")));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(
            Params::parse(b"code=a&code=b").unwrap_err(),
            ParamsError::Repeated("code".into())
        );
        // An empty copy is still a copy, first or last, and however the name is spelled.
        for input in [
            &b"code=&code=b"[..],
            b"code=b&code=",
            b"code&code=b",
            b"code=b&%63ode=",
        ] {
            assert_eq!(
                Params::parse(input).unwrap_err(),
                ParamsError::Repeated("code".into()),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(
            Params::parse(b"resource=&resource=r")
                .unwrap()
                .all("resource"),
            ["r"]
        );
    }
}
