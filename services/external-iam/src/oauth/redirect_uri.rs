//! Redirect URIs: validated when a client is registered, matched exactly at `/authorize`.
//!
//! RFC 9700 §4.1.3 and OAuth 2.1 require exact string matching: no prefix, no case folding,
//! no normalisation, no wildcard. A comparison that normalises (trailing slash, case of the
//! host, default port, percent-encoding) is a comparison that an attacker can find a second
//! spelling for. Registration is where URIs are checked for shape, so the match itself is a
//! plain `==` against the registered list.

use url::Url;

/// Why a URI cannot be registered as a redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("not an absolute URI")]
    NotAbsolute,
    #[error("a redirect URI must not contain a fragment (RFC 6749 §3.1.2)")]
    Fragment,
    #[error("a redirect URI must not contain user information")]
    UserInfo,
    #[error("only https, or http on a loopback host (localhost, 127.0.0.1, [::1]), is allowed")]
    InsecureScheme,
    #[error("the URI is not in its normal form; register it as {0}")]
    NotNormalised(String),
}

/// Checks a URI offered for registration.
pub fn validate_for_registration(uri: &str) -> Result<(), RedirectUriError> {
    if uri.contains('#') {
        return Err(RedirectUriError::Fragment);
    }
    let parsed = Url::parse(uri).map_err(|_| RedirectUriError::NotAbsolute)?;
    if parsed.cannot_be_a_base() || parsed.host_str().is_none() {
        return Err(RedirectUriError::NotAbsolute);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(RedirectUriError::UserInfo);
    }
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(RedirectUriError::InsecureScheme),
    }
    // Registered in normal form, so that what clients send (normally produced by a URL library)
    // has one spelling to equal.
    if parsed.as_str() != uri {
        return Err(RedirectUriError::NotNormalised(parsed.to_string()));
    }
    Ok(())
}

/// Whether `presented` is one of `registered`, byte for byte.
pub fn is_registered(presented: &str, registered: &[String]) -> bool {
    registered.iter().any(|uri| uri == presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_accepts_https_and_loopback_http() {
        for uri in [
            "https://app.example/cb",
            "http://localhost:8080/auth/callback",
            "http://127.0.0.1:8080/cb",
            "https://app.example/cb?tenant=1",
        ] {
            assert_eq!(validate_for_registration(uri), Ok(()), "{uri}");
        }
    }

    #[test]
    fn registration_refuses_dangerous_shapes() {
        assert_eq!(
            validate_for_registration("https://app.example/cb#x"),
            Err(RedirectUriError::Fragment)
        );
        assert_eq!(
            validate_for_registration("http://app.example/cb"),
            Err(RedirectUriError::InsecureScheme)
        );
        assert_eq!(
            validate_for_registration("https://user@app.example/cb"),
            Err(RedirectUriError::UserInfo)
        );
        assert_eq!(
            validate_for_registration("/cb"),
            Err(RedirectUriError::NotAbsolute)
        );
        assert_eq!(
            validate_for_registration("https://APP.example/cb"),
            Err(RedirectUriError::NotNormalised(
                "https://app.example/cb".into()
            ))
        );
        assert_eq!(
            validate_for_registration("javascript:alert(1)"),
            Err(RedirectUriError::NotAbsolute)
        );
    }

    #[test]
    fn matching_is_exact() {
        let registered = vec!["http://localhost:8080/auth/callback".to_owned()];
        assert!(is_registered(
            "http://localhost:8080/auth/callback",
            &registered
        ));
        for trick in [
            "http://localhost:8080/auth/callback/",
            "http://localhost:8080/auth/callbackx",
            "http://localhost:8080/auth/",
            "http://LOCALHOST:8080/auth/callback",
            "http://localhost:8080/auth/Callback",
            "http://localhost:8080/auth/callback?x=1",
            "http://localhost:8080/auth/callback#x",
            "http://evil@localhost:8080/auth/callback",
            "http://localhost:8080@evil.example/auth/callback",
            "http://localhost:8080/auth/callback/../callback",
            "http://localhost:8080/auth/%63allback",
        ] {
            assert!(!is_registered(trick, &registered), "{trick}");
        }
    }
}
