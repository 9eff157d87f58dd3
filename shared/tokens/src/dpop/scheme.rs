//! Reading the `DPoP` and `Authorization` request headers, and refusing the Bearer downgrade
//! (RFC 9449 §4.3 point 1, §7.1, §7.2).

use http::HeaderMap;
use http::header::AUTHORIZATION;
use serde_json::{Map, Value};

use crate::dpop::{DPOP_HEADER, DpopError};

/// The authentication scheme of an `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// RFC 6750: whoever holds the token may use it.
    Bearer,
    /// RFC 9449 §7.1: the token is bound to a key and comes with a proof.
    Dpop,
}

/// The access token of a request and how it was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    pub scheme: AuthScheme,
    pub token: &'a str,
}

/// What [`check_presentation`] concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presentation<'a> {
    /// A DPoP-bound token with the DPoP scheme and a proof: verify the proof with this key
    /// thumbprint as `expected_jkt`.
    Dpop { jkt: &'a str },
    /// An unbound token with the Bearer scheme. Whether that is acceptable is the resource's
    /// policy; every resource in this system requires DPoP and refuses it.
    Bearer,
}

/// The single `DPoP` header value of a request, if there is one.
///
/// RFC 9449 §4.3 point 1: more than one `DPoP` header is an error, not a choice of the first;
/// a proxy or client that duplicates it is sending something nobody can interpret safely.
/// Where a proof is required, `proof_header(headers)?.ok_or(DpopError::MissingProof)?`.
pub fn proof_header(headers: &HeaderMap) -> Result<Option<&str>, DpopError> {
    let mut values = headers.get_all(DPOP_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(DpopError::MultipleProofs);
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| DpopError::ProofHeaderNotText)
}

/// The access token and its scheme from the single `Authorization` header, if there is one.
///
/// Scheme names are case-insensitive (RFC 9110 §11.1); the credentials must be token68
/// (RFC 9449 §7.1, RFC 6750 §2.1). Two `Authorization` headers are refused as ambiguous
/// (RFC 9449 §7.2, Figure 19).
pub fn credentials(headers: &HeaderMap) -> Result<Option<Credentials<'_>>, DpopError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(DpopError::MultipleAuthorization);
    }
    let value = value
        .to_str()
        .map_err(|_| DpopError::MalformedAuthorization)?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(DpopError::MalformedAuthorization)?;
    let scheme = if scheme.eq_ignore_ascii_case("DPoP") {
        AuthScheme::Dpop
    } else if scheme.eq_ignore_ascii_case("Bearer") {
        AuthScheme::Bearer
    } else {
        return Err(DpopError::UnsupportedScheme);
    };
    // `1*SP`: further spaces before the token are allowed, nothing after it.
    let token = token.trim_start_matches(' ');
    if !is_token68(token) {
        return Err(DpopError::MalformedAuthorization);
    }
    Ok(Some(Credentials { scheme, token }))
}

/// The `cnf.jkt` of a validated token's claims: the thumbprint of the key it is bound to.
///
/// For callers holding raw claims; with typed claims, pass the confirmation's `jkt` straight to
/// [`check_presentation`]. A token without `cnf`, or bound to a client certificate
/// (`cnf.x5t#S256`, RFC 8705, checked by the mTLS layer), is not DPoP-bound. Anything else is
/// refused rather than read as "unbound": a `cnf` that is not an object, a `jkt` that is not a
/// non-empty string, or a confirmation method this system cannot check (`jwk`, `jku`, ...).
/// Reading those as "no binding" would let a bound token be used as a bearer token.
pub fn bound_jkt(claims: &Map<String, Value>) -> Result<Option<&str>, DpopError> {
    let Some(cnf) = claims.get("cnf") else {
        return Ok(None);
    };
    let cnf = cnf.as_object().ok_or(DpopError::MalformedConfirmation)?;
    match (cnf.get("jkt"), cnf.len()) {
        (Some(Value::String(jkt)), 1) if !jkt.is_empty() => Ok(Some(jkt)),
        (None, 1) if cnf.contains_key("x5t#S256") => Ok(None),
        _ => Err(DpopError::MalformedConfirmation),
    }
}

/// Refuses the downgrades RFC 9449 §7.1 and §7.2 name, given the scheme the token came with,
/// its `cnf.jkt` (see [`bound_jkt`]) and whether the request carried a `DPoP` header.
///
/// - a DPoP-bound token sent as `Bearer`: [`DpopError::BoundTokenAsBearer`] (§7.2: a stolen
///   bound token must not work without the key just because the thief changed the scheme);
/// - the `DPoP` scheme without a proof: [`DpopError::MissingProof`] (§7.1);
/// - the `DPoP` scheme with a token bound to nothing: [`DpopError::TokenNotBound`].
pub fn check_presentation<'a>(
    scheme: AuthScheme,
    cnf_jkt: Option<&'a str>,
    proof_present: bool,
) -> Result<Presentation<'a>, DpopError> {
    match (scheme, cnf_jkt) {
        (AuthScheme::Bearer, Some(_)) => Err(DpopError::BoundTokenAsBearer),
        (AuthScheme::Bearer, None) => Ok(Presentation::Bearer),
        (AuthScheme::Dpop, _) if !proof_present => Err(DpopError::MissingProof),
        (AuthScheme::Dpop, None) => Err(DpopError::TokenNotBound),
        (AuthScheme::Dpop, Some(jkt)) => Ok(Presentation::Dpop { jkt }),
    }
}

/// RFC 9110 §11.2: `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_token68(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn one_dpop_header_or_none() {
        assert_eq!(proof_header(&headers(&[])), Ok(None));
        assert_eq!(
            proof_header(&headers(&[("dpop", "a.b.c")])),
            Ok(Some("a.b.c"))
        );
        assert_eq!(
            proof_header(&headers(&[("DPoP", "a.b.c"), ("dpop", "d.e.f")])),
            Err(DpopError::MultipleProofs)
        );
        let mut map = HeaderMap::new();
        map.insert("dpop", HeaderValue::from_bytes(b"a.b\xff").unwrap());
        assert_eq!(proof_header(&map), Err(DpopError::ProofHeaderNotText));
    }

    #[test]
    fn authorization_schemes_and_token68() {
        let rfc_token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
        let map = headers(&[("authorization", &format!("DPoP {rfc_token}"))]);
        assert_eq!(
            credentials(&map),
            Ok(Some(Credentials {
                scheme: AuthScheme::Dpop,
                token: rfc_token
            }))
        );
        let map = headers(&[("authorization", "bearer  abc==")]);
        assert_eq!(
            credentials(&map).unwrap().unwrap().scheme,
            AuthScheme::Bearer
        );
        assert_eq!(credentials(&headers(&[])), Ok(None));
        for bad in ["DPoP", "DPoP ", "DPoP a b", "DPoP a,b", "DPoP =abc"] {
            assert_eq!(
                credentials(&headers(&[("authorization", bad)])),
                Err(DpopError::MalformedAuthorization),
                "{bad}"
            );
        }
        assert_eq!(
            credentials(&headers(&[("authorization", "Basic dXNlcjpwdw==")])),
            Err(DpopError::UnsupportedScheme)
        );
        assert_eq!(
            credentials(&headers(&[
                ("authorization", "Bearer a"),
                ("authorization", "DPoP a")
            ])),
            Err(DpopError::MultipleAuthorization)
        );
    }

    #[test]
    fn cnf_jkt_is_read_strictly() {
        let claims = |value: Value| value.as_object().unwrap().clone();
        assert_eq!(bound_jkt(&claims(json!({"sub": "a"}))), Ok(None));
        assert_eq!(
            bound_jkt(&claims(json!({"cnf": {"jkt": "abc"}}))),
            Ok(Some("abc"))
        );
        assert_eq!(
            bound_jkt(&claims(json!({"cnf": {"x5t#S256": "abc"}}))),
            Ok(None)
        );
        for cnf in [
            json!("abc"),
            json!({}),
            json!({"jwk": {"kty": "EC"}}),
            json!({"jkt": "abc", "x5t#S256": "def"}),
            json!({"jkt": ""}),
        ] {
            assert_eq!(
                bound_jkt(&claims(json!({ "cnf": cnf }))),
                Err(DpopError::MalformedConfirmation),
                "{cnf}"
            );
        }
        assert_eq!(
            bound_jkt(&claims(json!({"cnf": {"jkt": 1}}))),
            Err(DpopError::MalformedConfirmation)
        );
    }
}
