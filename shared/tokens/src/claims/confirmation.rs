//! The `cnf` claim (RFC 7800 §3.1): the key or certificate a token is bound to.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::{PublicJwk, b64, thumbprint};

/// `cnf` member holding a JWK SHA-256 thumbprint (RFC 9449 §6.1).
const JKT: &str = "jkt";
/// `cnf` member holding a certificate SHA-256 thumbprint (RFC 8705 §3.1).
const X5T_S256: &str = "x5t#S256";

/// What a token is bound to: the DPoP key of the client (customer access tokens) or the client
/// certificate of the mTLS connection it was issued over (service tokens).
///
/// Reading a `cnf` is strict. Exactly one confirmation method must be present, it must be one
/// of these two, and its value must be the base64url encoding of a SHA-256 digest. A `cnf` with
/// an unknown method (`jwk`, `jku`, `kid`, ...) is refused rather than ignored: a resource that
/// cannot check a binding must not treat the token as a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// `jkt`: the RFC 7638 thumbprint of the DPoP public key (RFC 9449 §6.1).
    Jkt(String),
    /// `x5t#S256`: the SHA-256 thumbprint of the client certificate (RFC 8705 §3.1).
    X5tS256(String),
}

impl Confirmation {
    /// A binding to a DPoP key.
    pub fn for_key(key: &PublicJwk) -> Self {
        Self::Jkt(key.thumbprint())
    }

    /// A binding to a client certificate, given as DER.
    pub fn for_certificate(certificate_der: &[u8]) -> Self {
        Self::X5tS256(thumbprint::x5t_s256(certificate_der))
    }

    /// The DPoP key thumbprint, if the token is DPoP-bound.
    pub fn jkt(&self) -> Option<&str> {
        match self {
            Self::Jkt(jkt) => Some(jkt),
            Self::X5tS256(_) => None,
        }
    }

    /// The certificate thumbprint, if the token is certificate-bound.
    pub fn x5t_s256(&self) -> Option<&str> {
        match self {
            Self::X5tS256(x5t) => Some(x5t),
            Self::Jkt(_) => None,
        }
    }

    /// Whether the token is bound to this DPoP key (RFC 9449 §7.1: the proof's key thumbprint
    /// must equal `cnf.jkt`). Thumbprints are public values, so a plain comparison is fine.
    pub fn is_key(&self, key: &PublicJwk) -> bool {
        self.jkt() == Some(key.thumbprint().as_str())
    }

    /// Whether the token is bound to this certificate (RFC 8705 §3: the thumbprint of the
    /// certificate presented on *this* connection must equal `cnf.x5t#S256`).
    pub fn is_certificate(&self, certificate_der: &[u8]) -> bool {
        self.x5t_s256() == Some(thumbprint::x5t_s256(certificate_der).as_str())
    }
}

impl Serialize for Confirmation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Self::Jkt(jkt) => map.serialize_entry(JKT, jkt)?,
            Self::X5tS256(x5t) => map.serialize_entry(X5T_S256, x5t)?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Confirmation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CnfVisitor;
        impl<'de> Visitor<'de> for CnfVisitor {
            type Value = Confirmation;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a `cnf` object with exactly one of `jkt` or `x5t#S256`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Confirmation, A::Error> {
                let mut found: Option<Confirmation> = None;
                while let Some(name) = map.next_key::<String>()? {
                    let method = match name.as_str() {
                        JKT => Confirmation::Jkt,
                        X5T_S256 => Confirmation::X5tS256,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            return Err(de::Error::custom(format_args!(
                                "unsupported confirmation method {:?} in `cnf`",
                                truncate(&name)
                            )));
                        }
                    };
                    let value: String = map.next_value()?;
                    if !is_sha256_b64url(&value) {
                        return Err(de::Error::custom(format_args!(
                            "`cnf.{name}` is not a base64url SHA-256 thumbprint"
                        )));
                    }
                    if found.is_some() {
                        return Err(de::Error::custom(
                            "`cnf` carries more than one confirmation method",
                        ));
                    }
                    found = Some(method(value));
                }
                found.ok_or_else(|| de::Error::custom("`cnf` carries no confirmation method"))
            }
        }
        deserializer.deserialize_map(CnfVisitor)
    }
}

/// 32 bytes in strict base64url without padding: 43 characters that decode canonically.
fn is_sha256_b64url(value: &str) -> bool {
    value.len() == 43 && b64::decode(value).is_ok_and(|digest| digest.len() == 32)
}

/// Member names come from the token; keep what reaches an error message short.
fn truncate(name: &str) -> &str {
    match name.char_indices().nth(32) {
        Some((end, _)) => &name[..end],
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, SigningKey};

    const THUMB: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    #[test]
    fn reads_and_writes_both_methods() {
        let jkt: Confirmation = serde_json::from_str(&format!(r#"{{"jkt":"{THUMB}"}}"#)).unwrap();
        assert_eq!(jkt, Confirmation::Jkt(THUMB.into()));
        assert_eq!(jkt.x5t_s256(), None);
        let x5t: Confirmation =
            serde_json::from_str(&format!(r#"{{"x5t#S256":"{THUMB}"}}"#)).unwrap();
        assert_eq!(x5t.x5t_s256(), Some(THUMB));
        let json = serde_json::to_string(&x5t).unwrap();
        assert_eq!(json, format!(r#"{{"x5t#S256":"{THUMB}"}}"#));
    }

    #[test]
    fn unknown_missing_doubled_and_malformed_methods_are_refused() {
        for bad in [
            r#"{"jwk":{"kty":"EC"}}"#.to_owned(),
            "{}".to_owned(),
            format!(r#"{{"jkt":"{THUMB}","x5t#S256":"{THUMB}"}}"#),
            r#"{"jkt":"c2hvcnQ"}"#.to_owned(),
            format!(r#"{{"jkt":"{}="}}"#, &THUMB[..42]),
        ] {
            assert!(serde_json::from_str::<Confirmation>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matches_keys_and_certificates() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let other = SigningKey::generate(Algorithm::Es256).unwrap();
        let cnf = Confirmation::for_key(key.public_jwk());
        assert!(cnf.is_key(key.public_jwk()));
        assert!(!cnf.is_key(other.public_jwk()));
        assert!(!cnf.is_certificate(b"cert"));
        let cnf = Confirmation::for_certificate(b"cert");
        assert!(cnf.is_certificate(b"cert"));
        assert!(!cnf.is_certificate(b"other cert"));
    }
}
