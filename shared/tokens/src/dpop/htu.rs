//! The `htu` claim: an HTTP target URI without query and fragment, in one normal form.

use std::fmt;
use std::str::FromStr;

use url::{Position, Url};

/// Why a string is not an acceptable `htu`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtuError {
    #[error("the URI contains a character RFC 3986 does not allow, or a bad percent-escape")]
    InvalidCharacter,
    #[error("the URI is not absolute with an authority (`scheme://host/...`)")]
    NotAbsolute,
    /// The scheme as sent, shortened (it comes from the client).
    #[error("the scheme {0:?} is not http or https")]
    UnsupportedScheme(String),
    #[error("the URI carries user information, which a target URI never does")]
    UserInfo,
    /// The host is not written the way it is compared: it has percent-escapes, characters that
    /// IDNA processing maps to others, or an IPv4 or IPv6 address in a non-standard spelling.
    #[error(
        "the host is not in normal form (percent-escapes, IDNA mappings or address shorthands)"
    )]
    NonCanonicalHost,
}

/// An HTTP(S) target URI in normal form, without query and fragment (RFC 9449 §4.2 `htu`).
///
/// The form is RFC 3986 §6.2.2 syntax-based plus §6.2.3 scheme-based normalisation, which
/// RFC 9449 §4.3 asks servers to apply before comparing: scheme and host in lower case, the
/// default port removed, an empty path written `/`, dot segments removed, percent-escapes of
/// unreserved characters decoded and all other escapes in upper case. Two URIs that differ only
/// in those ways produce the same `Htu`.
///
/// A server builds the `Htu` of each route once, from its configured public origin, not from
/// the request's `Host` header (which the client chooses), and compares every proof against it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Htu(String);

impl Htu {
    /// Normalises `uri`, dropping any query and fragment.
    ///
    /// Parsing is stricter than a browser's: characters outside RFC 3986's URI set (spaces,
    /// controls, backslashes, non-ASCII), malformed percent-escapes, user information (even
    /// empty), a host not already in normal form (other than by ASCII case) and a missing `//`
    /// authority are refused rather than repaired, because a proof's `htu` that needs repairing
    /// is a proof nobody should be guessing about.
    pub fn parse(uri: &str) -> Result<Self, HtuError> {
        check_rfc3986_characters(uri)?;
        let (scheme, rest) = uri.split_once(':').ok_or(HtuError::NotAbsolute)?;
        if !rest.starts_with("//") || rest.starts_with("///") {
            return Err(HtuError::NotAbsolute);
        }
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(HtuError::UnsupportedScheme(crate::validate::shown(&scheme)));
        }
        let authority = rest
            .strip_prefix("//")
            .and_then(|after| after.split(['/', '?', '#']).next())
            .unwrap_or_default();
        // An `@` anywhere in the authority is userinfo, even an empty one (`https://@host/`),
        // which the `url` crate reports as no username and no password.
        if authority.contains('@') {
            return Err(HtuError::UserInfo);
        }
        // From here the `url` crate does what RFC 3986 §6.2.2/§6.2.3 asks of the authority:
        // lower-cases scheme and host, drops the default port, resolves dot segments and
        // writes an empty path as `/`.
        let mut url = Url::parse(uri).map_err(|_| HtuError::NotAbsolute)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(HtuError::UserInfo);
        }
        // The `url` crate parses hosts as browsers do (WHATWG URL), which goes beyond RFC 3986
        // normalisation: it decodes percent-escapes in the host, applies IDNA mapping (so
        // `agent-b%C2%AD.example`, with a soft hyphen, becomes `agent-b.example`) and reads
        // `2130706433` or `0x7f.1` as `127.0.0.1`. A client that resolves such a host the RFC
        // 3986 way reaches a different server, which could then replay the proof here. So the
        // host must already be written as it is compared; only ASCII case may differ.
        let host = match authority.strip_prefix('[') {
            Some(literal) => literal
                .split_once(']')
                .map_or(authority, |(address, _)| &authority[..address.len() + 2]),
            None => authority.split(':').next().unwrap_or_default(),
        };
        if url
            .host_str()
            .is_none_or(|parsed| !parsed.eq_ignore_ascii_case(host))
        {
            return Err(HtuError::NonCanonicalHost);
        }
        url.set_query(None);
        url.set_fragment(None);
        let serialised = url.as_str();
        let path_start = url[..Position::BeforePath].len();
        let (authority, path) = serialised.split_at(path_start);
        let mut normal = String::with_capacity(serialised.len());
        normal.push_str(authority);
        normalise_percent_escapes(path, &mut normal);
        Ok(Self(normal))
    }

    /// The normal form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a proof's `htu` claim names this URI.
    ///
    /// A client that sends the normal form (as [`crate::dpop::DpopKey`] does) matches on the
    /// byte comparison alone; only other spellings pay for parsing. That shortcut is exact
    /// because normalising a normal form gives it back unchanged.
    pub(crate) fn matches_claim(&self, claim: &str) -> Result<bool, HtuError> {
        if claim == self.0 {
            return Ok(true);
        }
        Ok(Self::parse(claim)?.0 == self.0)
    }
}

impl FromStr for Htu {
    type Err = HtuError;

    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        Self::parse(uri)
    }
}

impl fmt::Display for Htu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Htu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Htu").field(&self.0).finish()
    }
}

/// RFC 3986 §2: a URI is ASCII made of unreserved, reserved and `%` characters, and every `%`
/// starts a two-hex-digit escape.
fn check_rfc3986_characters(uri: &str) -> Result<(), HtuError> {
    let bytes = uri.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let escape = bytes.get(i + 1..i + 3).ok_or(HtuError::InvalidCharacter)?;
            if !escape.iter().all(u8::is_ascii_hexdigit) {
                return Err(HtuError::InvalidCharacter);
            }
            i += 3;
            continue;
        }
        let allowed = byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&byte);
        if !allowed {
            return Err(HtuError::InvalidCharacter);
        }
        i += 1;
    }
    Ok(())
}

/// RFC 3986 §6.2.2.1 and §6.2.2.2: decode escapes of unreserved characters, upper-case the hex
/// digits of all others. The input is a path the `url` crate has already serialised, so every
/// `%` starts a valid escape; a stray one is copied unchanged.
fn normalise_percent_escapes(path: &str, out: &mut String) {
    let bytes = path.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%'
            && let Some(value) = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
                out.push(char::from(value));
            } else {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(value >> 4)]));
                out.push(char::from(HEX[usize::from(value & 0x0f)]));
            }
            i += 3;
            continue;
        }
        out.push(char::from(byte));
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(uri: &str) -> String {
        Htu::parse(uri).unwrap().0
    }

    #[test]
    fn syntax_and_scheme_based_normalisation() {
        let canonical = "https://server.example.com/token";
        for spelling in [
            "HTTPS://Server.Example.COM:443/token",
            "https://server.example.com/token?x=1#frag",
            "https://server.example.com/./a/../token",
            "https://server.example.com/%74oken",
            "https://server.example.com:/token",
        ] {
            assert_eq!(normal(spelling), canonical, "{spelling}");
        }
        assert_eq!(
            normal("https://server.example.com"),
            "https://server.example.com/"
        );
        assert_eq!(normal("http://h.example:80/"), "http://h.example/");
        assert_eq!(normal("https://h.example/a%2fb"), "https://h.example/a%2Fb");
        assert_eq!(normal("https://h.example/%7e%41"), "https://h.example/~A");
    }

    #[test]
    fn differences_that_matter_survive() {
        assert_ne!(
            normal("https://h.example/token"),
            normal("http://h.example/token")
        );
        assert_ne!(
            normal("https://h.example/token"),
            normal("https://h.example:8443/token")
        );
        assert_ne!(
            normal("https://h.example/token"),
            normal("https://h.example/Token")
        );
        assert_ne!(
            normal("https://h.example/a%2Fb"),
            normal("https://h.example/a/b")
        );
    }

    #[test]
    fn normal_form_is_a_fixed_point() {
        for uri in [
            "HTTPS://Server.Example.COM:443/a/%7e/%2f/%c3%a9?q",
            "http://[::1]:8080/x",
            "https://h.example/a;b=c/@d",
        ] {
            let once = normal(uri);
            assert_eq!(normal(&once), once, "{uri}");
        }
    }

    #[test]
    fn refuses_what_it_would_have_to_guess_about() {
        assert_eq!(
            Htu::parse("https://h.example/a b"),
            Err(HtuError::InvalidCharacter)
        );
        assert_eq!(
            Htu::parse("https://h.example/\\x"),
            Err(HtuError::InvalidCharacter)
        );
        assert_eq!(
            Htu::parse("https://h.example/%zz"),
            Err(HtuError::InvalidCharacter)
        );
        assert_eq!(
            Htu::parse("https://h.example/é"),
            Err(HtuError::InvalidCharacter)
        );
        assert_eq!(Htu::parse("https:h.example/x"), Err(HtuError::NotAbsolute));
        assert_eq!(
            Htu::parse("https:///h.example/x"),
            Err(HtuError::NotAbsolute)
        );
        assert_eq!(Htu::parse("/token"), Err(HtuError::NotAbsolute));
        assert_eq!(
            Htu::parse("ftp://h.example/x"),
            Err(HtuError::UnsupportedScheme("ftp".into()))
        );
        assert_eq!(
            Htu::parse("https://u:p@h.example/x"),
            Err(HtuError::UserInfo)
        );
    }

    #[test]
    fn claim_matching_takes_the_fast_path_or_normalises() {
        let expected = Htu::parse("https://server.example.com/token").unwrap();
        assert_eq!(
            expected.matches_claim("https://server.example.com/token"),
            Ok(true)
        );
        assert_eq!(
            expected.matches_claim("HTTPS://Server.Example.com:443/token"),
            Ok(true)
        );
        assert_eq!(
            expected.matches_claim("https://server.example.com/other"),
            Ok(false)
        );
        assert_eq!(
            expected.matches_claim("not a uri"),
            Err(HtuError::InvalidCharacter)
        );
    }

    #[test]
    fn userinfo_is_refused_even_when_empty() {
        for uri in [
            "https://@server.example.com/token",
            "https://:@server.example.com/token",
            "https://u@server.example.com/token",
            "https://server.example.com@/token",
        ] {
            assert_eq!(Htu::parse(uri), Err(HtuError::UserInfo), "{uri}");
        }
        // An `@` after the authority is path data, not userinfo.
        assert_eq!(normal("https://h.example/a@b"), "https://h.example/a@b");
    }

    #[test]
    fn hosts_must_be_written_as_they_are_compared() {
        let expected = Htu::parse("https://agent-b.example/v1/chat").unwrap();
        for uri in [
            // A soft hyphen, removed by IDNA mapping: another host to an RFC 3986 resolver.
            "https://agent-b%C2%AD.example/v1/chat",
            "https://agent-b.example%C2%AD/v1/chat",
            "https://%61gent-b.example/v1/chat",
            "https://agent-b%2Eexample/v1/chat",
        ] {
            assert_eq!(
                expected.matches_claim(uri),
                Err(HtuError::NonCanonicalHost),
                "{uri}"
            );
        }
        for uri in [
            "https://127.1/x",
            "https://0x7f.0.0.1/x",
            "https://2130706433/x",
            "https://0177.0.0.1/x",
            "https://[0:0:0:0:0:0:0:1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://%46a%C3%9F.de/x",
        ] {
            assert_eq!(Htu::parse(uri), Err(HtuError::NonCanonicalHost), "{uri}");
        }
        // Case, ports and the standard spellings of addresses stay accepted.
        assert_eq!(
            normal("https://AGENT-B.example:443/x"),
            "https://agent-b.example/x"
        );
        assert_eq!(
            normal("https://127.0.0.1:8443/x"),
            "https://127.0.0.1:8443/x"
        );
        assert_eq!(normal("https://[::1]:8443/x"), "https://[::1]:8443/x");
        assert_eq!(
            normal("https://[::FFFF:7F00:1]/x"),
            "https://[::ffff:7f00:1]/x"
        );
        assert_eq!(
            normal("https://xn--nxasmq6b.example/x"),
            "https://xn--nxasmq6b.example/x"
        );
    }

    #[test]
    fn a_hostile_scheme_is_shortened_in_the_error() {
        let uri = format!("{}://h.example/", "x".repeat(5000));
        let message = Htu::parse(&uri).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
    }

    /// Deterministic mutations of valid URIs (xorshift64*, fixed seed): parsing never panics,
    /// an accepted URI's normal form is a fixed point, and it never keeps userinfo, a query or
    /// a fragment.
    #[test]
    fn mutated_uris_never_panic_and_normal_forms_are_fixed_points() {
        const ALPHABET: &[char] = &[
            'a', 'Z', '0', '.', '/', ':', '@', '%', '2', 'e', 'E', '?', '#', '[', ']', '\\', ' ',
            'é', '\u{ad}',
        ];
        let mut state: u64 = 0x510e_527f_ade6_82d1;
        let mut below = |n: usize| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            usize::try_from(state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64).unwrap()
        };
        let seeds = [
            "https://agent-b.example:8443/v1/chat?x=1#f",
            "http://[::1]:9000/token",
            "https://127.0.0.1/a/./b/../c%7e",
        ];
        let mut accepted = 0;
        for round in 0..6000 {
            let mut chars: Vec<char> = seeds[round % seeds.len()].chars().collect();
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
            let uri: String = chars.into_iter().collect();
            let Ok(htu) = Htu::parse(&uri) else {
                continue;
            };
            accepted += 1;
            let normal = htu.as_str();
            assert_eq!(Htu::parse(normal).as_ref(), Ok(&htu), "{uri:?}");
            assert!(htu.matches_claim(&uri) == Ok(true), "{uri:?}");
            assert!(
                normal.starts_with("https://") || normal.starts_with("http://"),
                "{uri:?}"
            );
            assert!(!authority(normal).contains('@'), "{uri:?} -> {normal:?}");
            assert!(!normal.contains(['?', '#']), "{uri:?} -> {normal:?}");
        }
        assert!(accepted > 500, "{accepted}");
    }

    fn authority(normal: &str) -> &str {
        let rest = normal.split_once("//").map_or("", |(_, rest)| rest);
        rest.split('/').next().unwrap_or_default()
    }
}
