//! The `typ` header check (RFC 7515 §4.1.9, RFC 8725 §3.11).
//!
//! Explicit typing is what stops one kind of token from being accepted as another: an ID token
//! or a transaction token replayed as an access token, or the other way round.

const APPLICATION: &str = "application/";

/// The `typ` a validator requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpectedTyp {
    /// An explicit type, stored in the short form (`at+jwt`), compared case-insensitively.
    Explicit(String),
    /// An ID token: OpenID Connect defines no explicit type, so `JWT` or no `typ` at all
    /// (RFC 7519 §5.1). Explicitly typed tokens (`at+jwt`, `txntoken+jwt`, `dpop+jwt`) are
    /// therefore refused where an ID token is expected.
    JwtOrAbsent,
}

impl ExpectedTyp {
    /// Parses the configured value; `None` if it is not a media type this check can compare.
    pub(crate) fn explicit(typ: &str) -> Option<Self> {
        let short = short_form(typ)?;
        let valid = !short.is_empty()
            && short
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.!#$&^_".contains(&b));
        valid.then(|| Self::Explicit(short.to_ascii_lowercase()))
    }

    /// Whether the header's `typ` (`None` when absent) is acceptable.
    pub(crate) fn accepts(&self, found: Option<&str>) -> bool {
        match (self, found) {
            (Self::Explicit(expected), Some(found)) => same_type(expected, found),
            (Self::Explicit(_), None) => false,
            (Self::JwtOrAbsent, None) => true,
            (Self::JwtOrAbsent, Some(found)) => same_type("jwt", found),
        }
    }

    /// How the requirement reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Explicit(typ) => format!("{typ:?}"),
            Self::JwtOrAbsent => "\"JWT\" or none".to_owned(),
        }
    }
}

/// RFC 7515 §4.1.9: `typ` is a media type, compared case-insensitively, and the `application/`
/// prefix is omitted when no other `/` appears. Both spellings are accepted, so the value
/// without the prefix is what is compared; anything else containing `/` is a different type.
fn short_form(typ: &str) -> Option<&str> {
    let short = match typ.get(..APPLICATION.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(APPLICATION) => &typ[APPLICATION.len()..],
        _ => typ,
    };
    (!short.contains('/')).then_some(short)
}

fn same_type(expected_short: &str, found: &str) -> bool {
    short_form(found).is_some_and(|short| short.eq_ignore_ascii_case(expected_short))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_types_compare_case_insensitively_with_or_without_the_prefix() {
        let at = ExpectedTyp::explicit("at+jwt").unwrap();
        for ok in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert!(at.accepts(Some(ok)), "{ok}");
        }
        for bad in [
            "JWT",
            "txntoken+jwt",
            "dpop+jwt",
            "text/at+jwt",
            "application/application/at+jwt",
            "at+jwt; charset=utf-8",
            "",
        ] {
            assert!(!at.accepts(Some(bad)), "{bad}");
        }
        assert!(!at.accepts(None));
        assert_eq!(
            ExpectedTyp::explicit("application/AT+JWT"),
            Some(ExpectedTyp::Explicit("at+jwt".into()))
        );
        assert_eq!(ExpectedTyp::explicit("text/plain"), None);
        assert_eq!(ExpectedTyp::explicit(""), None);
    }

    #[test]
    fn id_tokens_are_jwt_or_untyped() {
        let id = ExpectedTyp::JwtOrAbsent;
        assert!(id.accepts(None));
        assert!(id.accepts(Some("JWT")));
        assert!(id.accepts(Some("application/jwt")));
        assert!(!id.accepts(Some("at+jwt")));
        assert!(!id.accepts(Some("txntoken+jwt")));
    }
}
