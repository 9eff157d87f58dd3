//! Public JSON Web Keys (RFC 7517), JWK Sets, and RFC 7638 thumbprints.

use std::fmt;

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Algorithm;
use crate::b64;
use crate::validate::shown;

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
    // The values below come from the JWK, which for a DPoP proof is whatever the client sent:
    // they are shortened when stored and printed escaped, so they cannot add lines to a log.
    #[error("unsupported key type {0:?} (only EC P-256 and OKP Ed25519 are accepted)")]
    UnsupportedKeyType(String),
    #[error("unsupported curve {0:?}")]
    UnsupportedCurve(String),
    #[error("the JWK member `{0}` is missing or not a string")]
    MissingMember(&'static str),
    #[error("the JWK member `{0}` is not canonical base64url of the right length")]
    BadCoordinate(&'static str),
    #[error("the JWK's `alg` is {found:?} but its key type implies `{expected}`")]
    AlgMismatch { found: String, expected: Algorithm },
    #[error("the JWK member `{0}` needs JSON escaping, so it has no RFC 7638 thumbprint")]
    NeedsEscaping(&'static str),
    /// An Ed25519 public key that is a point of small order, or a non-canonical encoding.
    /// Signatures "by" a small-order key can be made without any private key (the identity
    /// point verifies `R = identity, S = 0` for every message), so a DPoP proof or a binding
    /// to such a key would prove possession of nothing.
    #[error("the Ed25519 key is a small-order or non-canonical point, for which anyone can sign")]
    WeakKey,
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
            ("OKP", "Ed25519") => {
                let x = coordinate(text("x")?, "x")?;
                if is_weak_ed25519(&x) {
                    return Err(JwkError::WeakKey);
                }
                KeyKind::Ed25519 { x }
            }
            ("EC" | "OKP", other) => return Err(JwkError::UnsupportedCurve(shown(other))),
            (other, _) => return Err(JwkError::UnsupportedKeyType(shown(other))),
        };
        let jwk = Self {
            kind,
            kid: object.get("kid").and_then(Value::as_str).map(str::to_owned),
        };
        if let Some(alg) = object.get("alg").and_then(Value::as_str)
            && alg != jwk.algorithm().as_str()
        {
            return Err(JwkError::AlgMismatch {
                found: shown(alg),
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

/// The y-coordinates (little-endian, sign bit clear) of the eight points of small order on
/// edwards25519: 1 (the identity), p - 1 (order 2), 0 (the two points of order 4) and the two
/// y-values, negatives of each other mod p, of the four points of order 8.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    {
        let mut one = [0; 32];
        one[0] = 1;
        one
    },
    {
        // p - 1 = 2^255 - 20.
        let mut minus_one = [0xff; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        minus_one
    },
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
];

/// Whether an Ed25519 public key (RFC 8032 §5.1.2 encoding) is of small order or not in
/// canonical form (y >= p), which some decoders reduce mod p into a small-order point.
/// ring verifies signatures under such keys like any other, so they are refused here.
fn is_weak_ed25519(encoded: &[u8; 32]) -> bool {
    let mut y = *encoded;
    y[31] &= 0x7f;
    // p = 2^255 - 19: y >= p exactly when y is 2^255 - 19 ..= 2^255 - 1.
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed;
    non_canonical || SMALL_ORDER_Y.contains(&y)
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
        other => return Err(JwkError::UnsupportedKeyType(shown(other))),
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

    #[test]
    fn small_order_and_non_canonical_ed25519_keys_are_refused() {
        // Why: ring verifies `R = identity, S = 0` under the identity key for any message, so
        // a proof "signed" by it needs no private key at all.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = PublicJwk::from_ed25519(&identity, None).unwrap();
        let mut forged = [0u8; 64];
        forged[0] = 1;
        for message in [&b"any message"[..], b"another one"] {
            assert!(
                crate::jws::verify_signature(Algorithm::EdDsa, &weak, message, &forged).is_ok()
            );
        }

        let jwk = |x: [u8; 32]| json!({"kty": "OKP", "crv": "Ed25519", "x": b64::encode(x)});
        for y in SMALL_ORDER_Y {
            for sign in [0x00, 0x80] {
                let mut x = y;
                x[31] |= sign;
                assert_eq!(
                    PublicJwk::from_value(&jwk(x)),
                    Err(JwkError::WeakKey),
                    "{x:02x?}"
                );
            }
        }
        // y = p .. 2^255 - 1: non-canonical encodings (p and p + 1 reduce to small-order points).
        for low in 0xed..=0xff {
            let mut x = [0xff; 32];
            x[0] = low;
            x[31] = 0x7f;
            assert_eq!(PublicJwk::from_value(&jwk(x)), Err(JwkError::WeakKey));
        }
        // p - 2 and ordinary keys are fine.
        let mut below = [0xff; 32];
        below[0] = 0xeb;
        below[31] = 0x7f;
        assert!(!is_weak_ed25519(&below));
        for _ in 0..32 {
            let key = crate::SigningKey::generate(Algorithm::EdDsa).unwrap();
            assert!(PublicJwk::from_value(&key.public_jwk().to_value()).is_ok());
        }
    }

    #[test]
    fn hostile_jwk_members_are_shortened_and_escaped_in_errors() {
        let kty = format!("EC\nlevel=ERROR forged{}", "x".repeat(3000));
        for jwk in [
            json!({"kty": kty, "crv": "P-256"}),
            json!({"kty": "EC", "crv": kty}),
            json!({"kty": "OKP", "crv": "Ed25519",
                   "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "alg": kty}),
        ] {
            let message = PublicJwk::from_value(&jwk).unwrap_err().to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(message.len() < 200, "{message}");
        }
    }
}
