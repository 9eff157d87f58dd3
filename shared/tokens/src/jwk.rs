//! Public JSON Web Keys (RFC 7517), JWK Sets, and RFC 7638 thumbprints.

use std::fmt;

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Algorithm;
use crate::b64;

/// Members that only private or symmetric keys have. A JWK carrying any of them is refused:
/// a verifier has no use for a private key, and accepting one where a public key is expected
/// (RFC 9449 §4.3 point 7) would mean someone is leaking theirs.
const PRIVATE_MEMBERS: [&str; 9] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "r"];

/// Why a JWK was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    #[error("the JWK is not a JSON object")]
    NotAnObject,
    #[error("the JWK contains the private or symmetric member `{0}`")]
    PrivateMember(&'static str),
    #[error("unsupported key type `{0}` (only EC P-256 and OKP Ed25519 are accepted)")]
    UnsupportedKeyType(String),
    #[error("unsupported curve `{0}`")]
    UnsupportedCurve(String),
    #[error("the JWK member `{0}` is missing or not a string")]
    MissingMember(&'static str),
    #[error("the JWK member `{0}` is not canonical base64url of the right length")]
    BadCoordinate(&'static str),
    #[error("the JWK's `alg` is `{found}` but its key type implies `{expected}`")]
    AlgMismatch { found: String, expected: Algorithm },
    #[error("the JWK member `{0}` needs JSON escaping, so it has no RFC 7638 thumbprint")]
    NeedsEscaping(&'static str),
}

/// A validated public key in JWK form: an EC P-256 key or an Ed25519 key, nothing else.
///
/// Construction checks the key type, curve, and the exact length of each coordinate, so every
/// value of this type can be hashed into a thumbprint and handed to the verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicJwk {
    kind: KeyKind,
    kid: Option<String>,
}

#[derive(Clone, PartialEq, Eq)]
enum KeyKind {
    /// Uncompressed point coordinates, 32 bytes each.
    P256 {
        x: [u8; 32],
        y: [u8; 32],
    },
    Ed25519 {
        x: [u8; 32],
    },
}

impl PublicJwk {
    /// Parses and validates a JWK given as a JSON value.
    pub fn from_value(value: &Value) -> Result<Self, JwkError> {
        let object = value.as_object().ok_or(JwkError::NotAnObject)?;
        Self::from_object(object)
    }

    pub(crate) fn from_object(object: &Map<String, Value>) -> Result<Self, JwkError> {
        if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| object.contains_key(**m)) {
            return Err(JwkError::PrivateMember(member));
        }
        let text = |name: &'static str| {
            object
                .get(name)
                .and_then(Value::as_str)
                .ok_or(JwkError::MissingMember(name))
        };
        let kty = text("kty")?;
        let crv = text("crv")?;
        let kind = match (kty, crv) {
            ("EC", "P-256") => KeyKind::P256 {
                x: coordinate(text("x")?, "x")?,
                y: coordinate(text("y")?, "y")?,
            },
            ("OKP", "Ed25519") => KeyKind::Ed25519 {
                x: coordinate(text("x")?, "x")?,
            },
            ("EC" | "OKP", other) => return Err(JwkError::UnsupportedCurve(other.to_owned())),
            (other, _) => return Err(JwkError::UnsupportedKeyType(other.to_owned())),
        };
        let jwk = Self {
            kind,
            kid: object.get("kid").and_then(Value::as_str).map(str::to_owned),
        };
        if let Some(alg) = object.get("alg").and_then(Value::as_str)
            && alg != jwk.algorithm().as_str()
        {
            return Err(JwkError::AlgMismatch {
                found: alg.to_owned(),
                expected: jwk.algorithm(),
            });
        }
        Ok(jwk)
    }

    pub(crate) fn from_p256_point(uncompressed: &[u8], kid: Option<String>) -> Option<Self> {
        // SEC1 uncompressed form: 0x04 || x || y.
        let (&tag, rest) = uncompressed.split_first()?;
        if tag != 4 || rest.len() != 64 {
            return None;
        }
        let (x, y) = rest.split_at(32);
        Some(Self {
            kind: KeyKind::P256 {
                x: x.try_into().ok()?,
                y: y.try_into().ok()?,
            },
            kid,
        })
    }

    pub(crate) fn from_ed25519(public: &[u8], kid: Option<String>) -> Option<Self> {
        Some(Self {
            kind: KeyKind::Ed25519 {
                x: public.try_into().ok()?,
            },
            kid,
        })
    }

    /// The algorithm this key verifies. One key, one algorithm (RFC 7518 recommends it, and it
    /// stops a key from being used with an algorithm its owner never meant).
    pub fn algorithm(&self) -> Algorithm {
        match self.kind {
            KeyKind::P256 { .. } => Algorithm::Es256,
            KeyKind::Ed25519 { .. } => Algorithm::EdDsa,
        }
    }

    /// The key id, if the JWK has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The same key with a key id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The RFC 7638 JWK thumbprint with SHA-256, base64url-encoded: the value of `cnf.jkt`
    /// (RFC 9449 §6.1) and of this system's default `kid`.
    pub fn thumbprint(&self) -> String {
        // RFC 7638 §3.2: only the required members, in lexicographic order, no whitespace. The
        // coordinates are base64url, which never needs JSON escaping, so formatting is exact.
        let canonical = match &self.kind {
            KeyKind::P256 { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64::encode(x),
                b64::encode(y)
            ),
            KeyKind::Ed25519 { x } => {
                format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    b64::encode(x)
                )
            }
        };
        b64::encode(digest(&SHA256, canonical.as_bytes()))
    }

    /// The key in the form ring verifies with: the SEC1 uncompressed point, or the raw Ed25519
    /// public key.
    pub(crate) fn public_key_bytes(&self) -> Vec<u8> {
        match &self.kind {
            KeyKind::P256 { x, y } => {
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                point
            }
            KeyKind::Ed25519 { x } => x.to_vec(),
        }
    }

    /// The JWK as a JSON object, with `use: sig` and `alg` so clients need not guess.
    pub fn to_value(&self) -> Value {
        let mut object = Map::new();
        match &self.kind {
            KeyKind::P256 { x, y } => {
                object.insert("kty".into(), "EC".into());
                object.insert("crv".into(), "P-256".into());
                object.insert("x".into(), b64::encode(x).into());
                object.insert("y".into(), b64::encode(y).into());
            }
            KeyKind::Ed25519 { x } => {
                object.insert("kty".into(), "OKP".into());
                object.insert("crv".into(), "Ed25519".into());
                object.insert("x".into(), b64::encode(x).into());
            }
        }
        object.insert("use".into(), "sig".into());
        object.insert("alg".into(), self.algorithm().as_str().into());
        if let Some(kid) = &self.kid {
            object.insert("kid".into(), kid.clone().into());
        }
        Value::Object(object)
    }
}

impl fmt::Debug for PublicJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicJwk")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid)
            .field("jkt", &self.thumbprint())
            .finish()
    }
}

impl Serialize for PublicJwk {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PublicJwk {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(&value).map_err(serde::de::Error::custom)
    }
}

fn coordinate(text: &str, name: &'static str) -> Result<[u8; 32], JwkError> {
    b64::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(JwkError::BadCoordinate(name))
}

/// The RFC 7638 SHA-256 thumbprint of any JWK, given as JSON, base64url-encoded.
///
/// [`PublicJwk::thumbprint`] covers the keys this system uses; this function also covers RSA and
/// symmetric keys, so the RFC's own example (an RSA key) can check the construction. The hash
/// input holds only the required members of the key type (RFC 7638 §3.2), in lexicographic order,
/// with no whitespace.
///
/// RFC 7638 §3.3 says member values are written without escaping, and leaves the thumbprint of a
/// JWK that would need escaping undefined. Rather than pick one of several escapings (and disagree
/// with some other implementation), a value containing `"`, `\` or a control character is refused.
pub fn rfc7638_thumbprint(jwk: &Value) -> Result<String, JwkError> {
    let object = jwk.as_object().ok_or(JwkError::NotAnObject)?;
    let kty = object
        .get("kty")
        .and_then(Value::as_str)
        .ok_or(JwkError::MissingMember("kty"))?;
    // Already in lexicographic order, as the hash input requires.
    let members: &[&'static str] = match kty {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "oct" => &["k", "kty"],
        other => return Err(JwkError::UnsupportedKeyType(other.to_owned())),
    };
    let mut canonical = String::from("{");
    for (i, &name) in members.iter().enumerate() {
        let value = object
            .get(name)
            .and_then(Value::as_str)
            .ok_or(JwkError::MissingMember(name))?;
        if value.chars().any(|c| c == '"' || c == '\\' || c < ' ') {
            return Err(JwkError::NeedsEscaping(name));
        }
        if i > 0 {
            canonical.push(',');
        }
        canonical.push('"');
        canonical.push_str(name);
        canonical.push_str("\":\"");
        canonical.push_str(value);
        canonical.push('"');
    }
    canonical.push('}');
    Ok(b64::encode(digest(&SHA256, canonical.as_bytes())))
}

/// A JWK Set (RFC 7517 §5) of public verification keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<PublicJwk>,
}

/// Why a JWK Set document was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("the JWK Set is not valid JSON: {0}")]
    Json(String),
    #[error("the JWK Set has no `keys` array")]
    NoKeys,
}

impl Jwks {
    /// A set of the given keys.
    pub fn new(keys: Vec<PublicJwk>) -> Self {
        Self { keys }
    }

    /// Parses a JWK Set document. Keys of a type this system does not use are skipped, as
    /// RFC 7517 §5 asks, so an issuer may publish RSA keys beside ours; keys without a `kid`
    /// are skipped too, because selection here is by `kid` only.
    pub fn from_json(document: &[u8]) -> Result<Self, JwksError> {
        let value: Value =
            serde_json::from_slice(document).map_err(|e| JwksError::Json(e.to_string()))?;
        let keys = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwksError::NoKeys)?;
        let keys = keys
            .iter()
            .filter_map(|key| match PublicJwk::from_value(key) {
                Ok(jwk) if jwk.kid.is_some() => Some(jwk),
                Ok(_) => {
                    tracing::debug!("skipping a JWK without `kid`");
                    None
                }
                Err(error) => {
                    tracing::debug!(%error, "skipping an unusable JWK");
                    None
                }
            })
            .collect();
        Ok(Self { keys })
    }

    /// The key with this `kid`.
    pub fn find(&self, kid: &str) -> Option<&PublicJwk> {
        self.keys.iter().find(|key| key.kid() == Some(kid))
    }

    /// All keys in the set.
    pub fn keys(&self) -> &[PublicJwk] {
        &self.keys
    }

    /// The JWK Set document to publish at a `jwks_uri`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "keys": self.keys.iter().map(PublicJwk::to_value).collect::<Vec<_>>() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc9449_example_key_has_the_published_jkt() {
        // RFC 7638 §3.1's example is an RSA key, which `PublicJwk` does not accept (it is checked
        // against `rfc7638_thumbprint` below); the EC key of RFC 9449 §4.1 with its published
        // thumbprint (§6.1 example) is the known answer here.
        let jwk = PublicJwk::from_value(&json!({
            "kty": "EC",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
            "crv": "P-256"
        }))
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }

    #[test]
    fn rfc7638_example_rsa_key_has_the_published_thumbprint() {
        // RFC 7638 §3.1, with the optional members that must not count.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            rfc7638_thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn generic_thumbprint_agrees_with_public_jwk_and_refuses_escapes() {
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let key = crate::SigningKey::generate(alg).unwrap();
            let jwk = key.public_jwk();
            assert_eq!(
                rfc7638_thumbprint(&jwk.to_value()).unwrap(),
                jwk.thumbprint()
            );
        }
        let err = rfc7638_thumbprint(&json!({"kty": "oct", "k": "a\"b"})).unwrap_err();
        assert_eq!(err, JwkError::NeedsEscaping("k"));
        let err = rfc7638_thumbprint(&json!({"kty": "oct", "k": "a\nb"})).unwrap_err();
        assert_eq!(err, JwkError::NeedsEscaping("k"));
        let err = rfc7638_thumbprint(&json!({"kty": "RSA", "n": "AQAB"})).unwrap_err();
        assert_eq!(err, JwkError::MissingMember("e"));
        let err = rfc7638_thumbprint(&json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": 1}))
            .unwrap_err();
        assert_eq!(err, JwkError::MissingMember("y"));
    }

    #[test]
    fn private_members_are_refused() {
        let err = PublicJwk::from_value(&json!({
            "kty": "EC", "crv": "P-256",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
            "d": "AAAA"
        }))
        .unwrap_err();
        assert_eq!(err, JwkError::PrivateMember("d"));
        let err = PublicJwk::from_value(&json!({"kty": "oct", "k": "c2VjcmV0"})).unwrap_err();
        assert_eq!(err, JwkError::PrivateMember("k"));
    }

    #[test]
    fn wrong_types_curves_and_lengths_are_refused() {
        let err =
            PublicJwk::from_value(&json!({"kty": "RSA", "crv": "x", "n": "AQAB"})).unwrap_err();
        assert_eq!(err, JwkError::UnsupportedKeyType("RSA".into()));
        let err = PublicJwk::from_value(&json!({"kty": "EC", "crv": "P-384", "x": "", "y": ""}))
            .unwrap_err();
        assert_eq!(err, JwkError::UnsupportedCurve("P-384".into()));
        let err =
            PublicJwk::from_value(&json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}))
                .unwrap_err();
        assert_eq!(err, JwkError::BadCoordinate("x"));
        let err = PublicJwk::from_value(&json!({"kty": "OKP", "crv": "Ed25519"})).unwrap_err();
        assert_eq!(err, JwkError::MissingMember("x"));
    }

    #[test]
    fn jwks_skips_foreign_keys_and_round_trips() {
        let ours = json!({
            "kty": "EC", "crv": "P-256", "kid": "k1",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"
        });
        let document =
            json!({"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}, ours]});
        let jwks = Jwks::from_json(document.to_string().as_bytes()).unwrap();
        assert_eq!(jwks.keys().len(), 1);
        assert!(jwks.find("k1").is_some());
        let again = Jwks::from_json(jwks.to_json().to_string().as_bytes()).unwrap();
        assert_eq!(again, jwks);
        assert_eq!(Jwks::from_json(b"{}").unwrap_err(), JwksError::NoKeys);
    }
}
