//! The two cookies the browser holds, and nothing else: an opaque session id after login, and
//! an opaque pre-login id while a login is under way. Neither carries a token or any data.
//!
//! Both are `HttpOnly` (no script reads them), `SameSite=Lax` (sent on the top-level GET that
//! comes back from the IAM, never on another site's POST), `Path=/`, and over TLS `Secure` with
//! the `__Host-` prefix (which makes the browser refuse the cookie unless it is `Secure`,
//! `Path=/` and has no `Domain`, so a sibling subdomain cannot plant one). On the plain-http dev
//! origin the prefix and `Secure` are left out: browsers refuse them there.

use http::{HeaderMap, HeaderValue, header};

use super::opaque::Opaque;

/// Cookie names and attributes for one origin.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    https: bool,
}

impl CookiePolicy {
    pub fn new(https: bool) -> Self {
        Self { https }
    }

    /// The session cookie's name.
    pub fn session_name(self) -> &'static str {
        if self.https {
            "__Host-web_session"
        } else {
            "web_session"
        }
    }

    /// The pre-login cookie's name.
    pub fn login_name(self) -> &'static str {
        if self.https {
            "__Host-web_login"
        } else {
            "web_login"
        }
    }

    /// Sets the session cookie. No `Max-Age`: it ends with the browser session, or earlier
    /// when the server-side session ends (absolute lifetime, logout), whichever comes first.
    pub fn set_session(self, id: &Opaque) -> Option<HeaderValue> {
        self.cookie(self.session_name(), id.expose(), None)
    }

    /// Sets the pre-login cookie for `max_age` seconds (the login timeout).
    pub fn set_login(self, id: &Opaque, max_age: i64) -> Option<HeaderValue> {
        self.cookie(self.login_name(), id.expose(), Some(max_age))
    }

    pub fn clear_session(self) -> Option<HeaderValue> {
        self.cookie(self.session_name(), "", Some(0))
    }

    pub fn clear_login(self) -> Option<HeaderValue> {
        self.cookie(self.login_name(), "", Some(0))
    }

    /// The session id the browser sent, if exactly one well-formed one.
    pub fn session(self, headers: &HeaderMap) -> Option<Opaque> {
        read(headers, self.session_name())
    }

    /// The pre-login id the browser sent, if exactly one well-formed one.
    pub fn login(self, headers: &HeaderMap) -> Option<Opaque> {
        read(headers, self.login_name())
    }

    fn cookie(self, name: &str, value: &str, max_age: Option<i64>) -> Option<HeaderValue> {
        let secure = if self.https { "; Secure" } else { "" };
        let max_age = max_age.map_or_else(String::new, |age| format!("; Max-Age={age}"));
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; HttpOnly; SameSite=Lax{max_age}{secure}"
        ))
        .ok()
    }
}

/// The value of cookie `name` if exactly one well-formed one was sent. Two cookies of the same
/// name (one planted for a parent domain or another path, say) are treated as none: the app
/// cannot tell which one it set.
fn read(headers: &HeaderMap, name: &str) -> Option<Opaque> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            let Some((key, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if key == name {
                if found.is_some() {
                    return None;
                }
                found = Some(value);
            }
        }
    }
    found.and_then(Opaque::presented)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::COOKIE, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn attributes_follow_the_transport() {
        let id = Opaque::generate(&SystemRandom::new()).unwrap();
        let plain = CookiePolicy::new(false).set_session(&id).unwrap();
        assert_eq!(
            plain.to_str().unwrap(),
            format!(
                "web_session={}; Path=/; HttpOnly; SameSite=Lax",
                id.expose()
            )
        );
        let tls = CookiePolicy::new(true).set_login(&id, 600).unwrap();
        assert_eq!(
            tls.to_str().unwrap(),
            format!(
                "__Host-web_login={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Secure",
                id.expose()
            )
        );
        let cleared = CookiePolicy::new(false).clear_session().unwrap();
        assert_eq!(
            cleared.to_str().unwrap(),
            "web_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }

    #[test]
    fn reads_exactly_one_well_formed_value() {
        let policy = CookiePolicy::new(false);
        let id = Opaque::generate(&SystemRandom::new()).unwrap();
        let one = format!("iam_session=x; web_session={}", id.expose());
        assert_eq!(policy.session(&headers(&[&one])), Some(id.clone()));
        let twice = format!("web_session={0}; web_session={0}", id.expose());
        assert_eq!(policy.session(&headers(&[&twice])), None);
        let split = format!("web_session={}", id.expose());
        assert_eq!(policy.session(&headers(&[&split, &split])), None);
        assert_eq!(policy.session(&headers(&["web_session=not-ours"])), None);
        assert_eq!(policy.login(&headers(&[&one])), None);
    }
}
