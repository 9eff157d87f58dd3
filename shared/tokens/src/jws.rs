//! JWS Compact Serialization (RFC 7515 §7.1): signing, and the strict first stage of
//! verification that every token and DPoP proof goes through.

use std::cell::RefCell;
use std::fmt;

use serde::Serialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::validate::shown;
use crate::{Algorithm, KeyError, PublicJwk, SigningKey, b64};

/// The largest token accepted, checked before any decoding. Access tokens here are well under
/// 2 KiB; the bound stops a hostile client from making the server base64-decode and parse
/// megabytes of JSON per request.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a compact JWS was refused before or during signature verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("the token is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the token does not have three dot-separated segments")]
    Malformed,
    #[error("the {0} segment is not base64url")]
    NotBase64Url(Segment),
    #[error("the {0} segment is not a JSON object")]
    NotJsonObject(Segment),
    #[error("the header has no `alg`")]
    MissingAlg,
    #[error("`alg: none` is never accepted")]
    AlgNone,
    /// The name is copied from an unauthenticated header: shortened, and printed escaped so a
    /// hostile `alg` cannot add lines to a log.
    #[error("the algorithm {0:?} is not allowed")]
    AlgorithmNotAllowed(String),
    /// The `crit` value as JSON, shortened.
    #[error("the header marks {0:?} critical, and no extension is understood here")]
    CriticalHeader(String),
    /// RFC 7515 §4 lets a parser either refuse a repeated header parameter or keep its last
    /// copy. Keeping one would mean trusting whichever copy this parser keeps while another
    /// parser (a gateway, an audit tool) may act on the other, so a repeated member name in the
    /// header, at any depth (the `jwk` of a DPoP proof included), is refused. [`Compact::verify`]
    /// applies the same rule to the payload.
    #[error("the {segment} names the member {name:?} more than once")]
    DuplicateMember { segment: Segment, name: String },
    #[error("the signature is not valid")]
    BadSignature,
    #[error("the key is for {key} but the token says {token}")]
    KeyAlgorithmMismatch { key: Algorithm, token: Algorithm },
    #[error("signing failed: {0}")]
    Signing(#[from] KeyError),
}

/// A segment of a compact JWS, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Header,
    Payload,
    Signature,
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
        })
    }
}

/// A compact JWS split and decoded, its signature not yet checked.
///
/// The only way to read the claims is [`Compact::verify`], so code cannot act on an unverified
/// payload by mistake. The header is readable because choosing the key needs `alg` and `kid`.
#[derive(Debug)]
pub struct Compact<'a> {
    header: Map<String, Value>,
    alg: Algorithm,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    /// Splits and decodes `token`, checking the size bound first and the `alg` against
    /// `allowed` before anything else is looked at.
    pub fn parse(token: &'a str, allowed: &[Algorithm]) -> Result<Self, JwsError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwsError::TooLarge {
                len: token.len(),
                max: MAX_TOKEN_BYTES,
            });
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let header_bytes =
            b64::decode(header_b64).map_err(|_| JwsError::NotBase64Url(Segment::Header))?;
        let header = unique_object(&header_bytes, Segment::Header)?;
        let alg = header_algorithm(&header, allowed)?;
        if let Some(crit) = header.get("crit") {
            // RFC 7515 §4.1.11: a recipient must reject a JWS whose `crit` lists an extension it
            // does not understand. This system uses none, so any `crit` is refused.
            return Err(JwsError::CriticalHeader(shown(&crit.to_string())));
        }
        let payload =
            b64::decode(payload_b64).map_err(|_| JwsError::NotBase64Url(Segment::Payload))?;
        let signature =
            b64::decode(signature_b64).map_err(|_| JwsError::NotBase64Url(Segment::Signature))?;
        Ok(Self {
            header,
            alg,
            signing_input: &token[..header_b64.len() + 1 + payload_b64.len()],
            payload,
            signature,
        })
    }

    /// The protected header. Members such as `jku`, `x5u` and `jwk` are visible here but this
    /// crate never uses them to choose a verification key.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The header's `alg`, already checked against the allow-list.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// A string member of the header (`kid`, `typ`, ...).
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// Checks the signature with `key` and returns the payload as a JSON object. A member name
    /// that appears twice, at any depth, is refused ([`JwsError::DuplicateMember`]).
    pub fn verify(self, key: &PublicJwk) -> Result<Map<String, Value>, JwsError> {
        let payload = self.verify_raw(key)?;
        unique_object(&payload, Segment::Payload)
    }

    /// Checks the signature with `key` and returns the payload bytes, not yet parsed.
    ///
    /// The validator reads the payload straight into typed claims; going through
    /// [`Self::verify`]'s `Map` first would parse every token twice.
    pub(crate) fn verify_raw(self, key: &PublicJwk) -> Result<Vec<u8>, JwsError> {
        verify_signature(
            self.alg,
            key,
            self.signing_input.as_bytes(),
            &self.signature,
        )?;
        Ok(self.payload)
    }
}

/// Verifies a JWS signature over `message`: the one place this crate calls ring's verifiers,
/// so [`Compact::verify`], the validator and the known-answer tests exercise the same code.
///
/// The key decides the algorithm (one key, one algorithm): a token whose header names another
/// algorithm is refused before any cryptography runs.
#[doc(hidden)]
pub fn verify_signature(
    alg: Algorithm,
    key: &PublicJwk,
    message: &[u8],
    signature: &[u8],
) -> Result<(), JwsError> {
    if key.algorithm() != alg {
        return Err(JwsError::KeyAlgorithmMismatch {
            key: key.algorithm(),
            token: alg,
        });
    }
    ring::signature::UnparsedPublicKey::new(alg.verification(), key.public_key_bytes())
        .verify(message, signature)
        .map_err(|_| JwsError::BadSignature)
}

fn header_algorithm(
    header: &Map<String, Value>,
    allowed: &[Algorithm],
) -> Result<Algorithm, JwsError> {
    let name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwsError::MissingAlg)?;
    if name.eq_ignore_ascii_case("none") {
        return Err(JwsError::AlgNone);
    }
    Algorithm::from_name(name)
        .filter(|alg| allowed.contains(alg))
        .ok_or_else(|| JwsError::AlgorithmNotAllowed(shown(name)))
}

/// Parses `bytes` as one JSON object whose objects, at every depth, name each member once.
fn unique_object(bytes: &[u8], segment: Segment) -> Result<Map<String, Value>, JwsError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = UniqueMembers(&duplicate)
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(name)) => Err(JwsError::DuplicateMember {
            segment,
            name: shown(&name),
        }),
        (Ok(Value::Object(object)), None) => Ok(object),
        _ => Err(JwsError::NotJsonObject(segment)),
    }
}

/// Reads any JSON value as `serde_json::Value` does, but stops at the first object that names
/// a member twice, recording the name (serde's error type cannot carry it out).
#[derive(Clone, Copy)]
struct UniqueMembers<'d>(&'d RefCell<Option<String>>);

impl<'de> DeserializeSeed<'de> for UniqueMembers<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueMembers<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut elements = Vec::new();
        while let Some(element) = seq.next_element_seed(self)? {
            elements.push(element);
        }
        Ok(Value::Array(elements))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if object.contains_key(&name) {
                *self.0.borrow_mut() = Some(name);
                return Err(de::Error::custom("duplicate member"));
            }
            let value = map.next_value_seed(self)?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

/// Signs `claims` with `key` as a compact JWS whose header is `alg`, `typ`, `kid` and any
/// `extra` members (a DPoP proof puts its `jwk` there).
pub fn sign(
    key: &SigningKey,
    typ: &str,
    claims: &impl Serialize,
    extra: Option<Map<String, Value>>,
) -> Result<String, JwsError> {
    let mut header = extra.unwrap_or_default();
    header.insert("alg".into(), key.algorithm().as_str().into());
    header.insert("typ".into(), typ.into());
    if !header.contains_key("jwk") {
        // A proof carries its key; everything else names it. Never both, so a verifier cannot
        // be tempted to trust the embedded key.
        header.insert("kid".into(), key.kid().into());
    }
    let header =
        serde_json::to_vec(&header).map_err(|_| JwsError::NotJsonObject(Segment::Header))?;
    let payload =
        serde_json::to_vec(claims).map_err(|_| JwsError::NotJsonObject(Segment::Payload))?;
    let mut token = b64::encode(header);
    token.push('.');
    token.push_str(&b64::encode(payload));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64::encode(signature));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ES256: &[Algorithm] = &[Algorithm::Es256];

    fn token_with_header(header: Value) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header.to_string()),
            b64::encode(b"{}"),
            b64::encode([0u8; 64])
        )
    }

    #[test]
    fn sign_then_verify_both_algorithms() {
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let key = SigningKey::generate(alg).unwrap();
            let token = sign(&key, "at+jwt", &json!({"sub": "alice"}), None).unwrap();
            let compact = Compact::parse(&token, &[alg]).unwrap();
            assert_eq!(compact.header_str("kid"), Some(key.kid()));
            assert_eq!(compact.header_str("typ"), Some("at+jwt"));
            let claims = compact.verify(key.public_jwk()).unwrap();
            assert_eq!(claims["sub"], "alice");
        }
    }

    #[test]
    fn alg_none_and_hmac_are_refused_at_parse() {
        let err = Compact::parse(&token_with_header(json!({"alg": "none"})), ES256).unwrap_err();
        assert_eq!(err, JwsError::AlgNone);
        let err = Compact::parse(&token_with_header(json!({"alg": "HS256"})), ES256).unwrap_err();
        assert_eq!(err, JwsError::AlgorithmNotAllowed("HS256".into()));
        let err = Compact::parse(&token_with_header(json!({"alg": "EdDSA"})), ES256).unwrap_err();
        assert_eq!(err, JwsError::AlgorithmNotAllowed("EdDSA".into()));
        let err = Compact::parse(&token_with_header(json!({"typ": "JWT"})), ES256).unwrap_err();
        assert_eq!(err, JwsError::MissingAlg);
    }

    #[test]
    fn crit_is_refused() {
        let token = token_with_header(json!({"alg": "ES256", "crit": ["exp"], "exp": 1}));
        let err = Compact::parse(&token, ES256).unwrap_err();
        assert_eq!(err, JwsError::CriticalHeader(r#"["exp"]"#.into()));
    }

    #[test]
    fn structure_and_encoding_errors_are_specific() {
        assert_eq!(
            Compact::parse("a.b", ES256).unwrap_err(),
            JwsError::Malformed
        );
        assert_eq!(
            Compact::parse("a.b.c.d", ES256).unwrap_err(),
            JwsError::Malformed
        );
        assert_eq!(
            Compact::parse("e30=.e30.AA", ES256).unwrap_err(),
            JwsError::NotBase64Url(Segment::Header)
        );
        let header = b64::encode(r#"{"alg":"ES256"}"#);
        assert_eq!(
            Compact::parse(&format!("{header}.e3+.AA"), ES256).unwrap_err(),
            JwsError::NotBase64Url(Segment::Payload)
        );
        assert_eq!(
            Compact::parse(&format!("{}.e30.AA", b64::encode("[1]")), ES256).unwrap_err(),
            JwsError::NotJsonObject(Segment::Header)
        );
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(
            Compact::parse(&big, ES256).unwrap_err(),
            JwsError::TooLarge {
                len: MAX_TOKEN_BYTES + 1,
                max: MAX_TOKEN_BYTES
            }
        );
    }

    #[test]
    fn tampered_payload_fails_the_signature() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let token = sign(&key, "at+jwt", &json!({"sub": "alice"}), None).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64::encode(r#"{"sub":"bob"}"#);
        parts[1] = &forged;
        let forged = parts.join(".");
        let err = Compact::parse(&forged, ES256)
            .unwrap()
            .verify(key.public_jwk())
            .unwrap_err();
        assert_eq!(err, JwsError::BadSignature);
    }

    #[test]
    fn a_key_verifies_only_its_own_algorithm() {
        let ed = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let es = SigningKey::generate(Algorithm::Es256).unwrap();
        let token = sign(&es, "at+jwt", &json!({}), None).unwrap();
        let err = Compact::parse(&token, ES256)
            .unwrap()
            .verify(ed.public_jwk())
            .unwrap_err();
        assert_eq!(
            err,
            JwsError::KeyAlgorithmMismatch {
                key: Algorithm::EdDsa,
                token: Algorithm::Es256
            }
        );
    }

    fn token_with_raw_header(header: &str) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header),
            b64::encode(b"{}"),
            b64::encode([0u8; 64])
        )
    }

    #[test]
    fn repeated_header_parameters_are_refused_not_last_wins() {
        // A parser that keeps the last copy reads ES256 here; one that keeps the first reads
        // `none`. Neither reading is trusted.
        for (header, name) in [
            (r#"{"alg":"none","alg":"ES256"}"#, "alg"),
            (
                r#"{"alg":"ES256","typ":"txntoken+jwt","typ":"at+jwt"}"#,
                "typ",
            ),
            (r#"{"alg":"ES256","kid":"a","kid":"b"}"#, "kid"),
            // The same name spelled with an escape is the same name.
            (r#"{"alg":"ES256","\u0061lg":"ES256"}"#, "alg"),
            // Inside the embedded key of a DPoP proof, too.
            (r#"{"alg":"ES256","jwk":{"kty":"EC","x":"a","x":"b"}}"#, "x"),
            (r#"{"alg":"ES256","x":[{"k":1,"k":2}]}"#, "k"),
        ] {
            assert_eq!(
                Compact::parse(&token_with_raw_header(header), ES256).unwrap_err(),
                JwsError::DuplicateMember {
                    segment: Segment::Header,
                    name: name.into()
                },
                "{header}"
            );
        }
        // Distinct names at different depths are fine.
        let nested = r#"{"alg":"ES256","jwk":{"alg":"ES256"}}"#;
        assert!(Compact::parse(&token_with_raw_header(nested), ES256).is_ok());
    }

    #[test]
    fn repeated_payload_members_are_refused_by_verify() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let header = b64::encode(format!(r#"{{"alg":"ES256","kid":"{}"}}"#, key.kid()));
        let payload = b64::encode(r#"{"htu":"https://evil.example/","htu":"https://ok/"}"#);
        let input = format!("{header}.{payload}");
        let token = format!(
            "{input}.{}",
            b64::encode(key.sign(input.as_bytes()).unwrap())
        );
        let err = Compact::parse(&token, ES256)
            .unwrap()
            .verify(key.public_jwk())
            .unwrap_err();
        assert_eq!(
            err,
            JwsError::DuplicateMember {
                segment: Segment::Payload,
                name: "htu".into()
            }
        );
    }

    #[test]
    fn header_values_in_errors_cannot_forge_log_lines() {
        let alg = format!("ES256\\nlevel=INFO msg=forged {}", "x".repeat(5000));
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        let err = Compact::parse(&token_with_raw_header(&header), ES256).unwrap_err();
        let message = err.to_string();
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains(r"ES256\nlevel"), "{message}");
        assert!(message.len() < 200, "{message}");
        let crit = format!(r#"{{"alg":"ES256","crit":["{}"]}}"#, "c".repeat(5000));
        let message = Compact::parse(&token_with_raw_header(&crit), ES256)
            .unwrap_err()
            .to_string();
        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn deeply_nested_headers_are_refused_without_exhausting_the_stack() {
        // Within the size bound, as deep as it gets; serde_json stops at 128 levels.
        let depth = 2_900;
        let header = format!(
            r#"{{"alg":"ES256","x":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let token = token_with_raw_header(&header);
        assert!(token.len() <= MAX_TOKEN_BYTES);
        assert_eq!(
            Compact::parse(&token, ES256).unwrap_err(),
            JwsError::NotJsonObject(Segment::Header)
        );
    }
}
