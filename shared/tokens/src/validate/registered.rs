//! The registered claims, read in one pass over the verified payload without building a
//! `serde_json::Value`: names and string values are borrowed from the payload where the JSON
//! allows it, and claims the checks do not need are skipped unread.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ValidationError;
use crate::claims::numeric_date::{self, Round};
use crate::jws::{JwsError, Segment};

/// What the pass needs to know from the validator.
pub(super) struct Rules<'r> {
    pub(super) audience: &'r str,
    /// At most 64 names (checked when the validator is built): one bit each in `required_seen`.
    pub(super) required: &'r [Box<str>],
    /// Whether `scope` is read (only when the validator requires scopes).
    pub(super) read_scope: bool,
}

/// The registered claims of one token, as far as the checks need them.
#[derive(Debug, Default)]
pub(super) struct Registered<'a> {
    pub(super) iss: Option<Cow<'a, str>>,
    /// `Some(true)` when `aud` names the expected audience.
    pub(super) aud: Option<bool>,
    /// Dates, already rounded towards refusal.
    pub(super) exp: Option<i64>,
    pub(super) nbf: Option<i64>,
    pub(super) iat: Option<i64>,
    pub(super) scope: Option<Cow<'a, str>>,
    /// Bit `i` is set when `required[i]` is present with a non-null value.
    pub(super) required_seen: u64,
}

/// Reads the registered claims of a verified payload.
pub(super) fn read<'a>(
    payload: &'a [u8],
    rules: &Rules<'_>,
) -> Result<Registered<'a>, ValidationError> {
    let mut rejection = None;
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    let outcome = PayloadSeed {
        rules,
        rejection: &mut rejection,
    }
    .deserialize(&mut deserializer)
    .and_then(|registered| deserializer.end().map(|()| registered));
    outcome.map_err(|_| {
        // A check that failed inside the pass left its specific error; anything else is JSON
        // that is not an object.
        rejection.unwrap_or(ValidationError::Jws(JwsError::NotJsonObject(
            Segment::Payload,
        )))
    })
}

struct PayloadSeed<'r, 's> {
    rules: &'r Rules<'r>,
    rejection: &'s mut Option<ValidationError>,
}

impl PayloadSeed<'_, '_> {
    /// Records the specific rejection and stops the pass.
    fn reject<E: de::Error>(self, error: ValidationError) -> E {
        *self.rejection = Some(error);
        E::custom("rejected")
    }
}

impl<'de> DeserializeSeed<'de> for PayloadSeed<'_, '_> {
    type Value = Registered<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PayloadSeed<'_, '_> {
    type Value = Registered<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // RFC 7519 §4 lets a parser either reject duplicate claim names or keep the last one.
        // Keeping one would mean trusting whichever copy this parser happens to keep, while
        // another parser down the line may keep the other: a registered claim that appears
        // twice is refused.
        let mut out = Registered::default();
        while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
            let required = self.rules.required.iter().position(|r| **r == *name);
            let present = match &*name {
                "iss" => {
                    if out.iss.is_some() {
                        return Err(self.reject(ValidationError::DuplicateClaim("iss")));
                    }
                    match map.next_value::<Claim<'de>>()? {
                        Claim::Str(iss) => out.iss = Some(iss),
                        _ => {
                            return Err(self.reject(ValidationError::InvalidClaim {
                                claim: "iss",
                                expected: "a string",
                            }));
                        }
                    }
                    true
                }
                "aud" => {
                    if out.aud.is_some() {
                        return Err(self.reject(ValidationError::DuplicateClaim("aud")));
                    }
                    let audience = AudienceSeed(self.rules.audience);
                    match map.next_value_seed(audience)? {
                        Some(named) => out.aud = Some(named),
                        None => {
                            return Err(self.reject(ValidationError::InvalidClaim {
                                claim: "aud",
                                expected: "a string or an array of strings",
                            }));
                        }
                    }
                    true
                }
                "exp" | "nbf" | "iat" => {
                    let (claim, slot, round): (&'static str, _, _) = match &*name {
                        "exp" => ("exp", &mut out.exp, Round::Down),
                        "nbf" => ("nbf", &mut out.nbf, Round::Up),
                        _ => ("iat", &mut out.iat, Round::Up),
                    };
                    if slot.is_some() {
                        return Err(self.reject(ValidationError::DuplicateClaim(claim)));
                    }
                    match map.next_value::<Claim<'de>>()?.numeric_date(round) {
                        Some(date) => *slot = Some(date),
                        None => return Err(self.reject(ValidationError::NotANumericDate(claim))),
                    }
                    true
                }
                "scope" if self.rules.read_scope => {
                    if out.scope.is_some() {
                        return Err(self.reject(ValidationError::DuplicateClaim("scope")));
                    }
                    match map.next_value::<Claim<'de>>()? {
                        Claim::Str(scope) => out.scope = Some(scope),
                        _ => {
                            return Err(self.reject(ValidationError::InvalidClaim {
                                claim: "scope",
                                expected: "a space-separated string",
                            }));
                        }
                    }
                    true
                }
                _ if required.is_some() => !matches!(map.next_value::<Claim<'de>>()?, Claim::Null),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    false
                }
            };
            if let (true, Some(bit)) = (present, required) {
                out.required_seen |= 1 << bit;
            }
        }
        Ok(out)
    }
}

/// A claim name, borrowed from the payload unless it contains escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// The value of a registered claim, reduced to what the checks need. Arrays and objects are
/// consumed without being stored.
enum Claim<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    UInt(u64),
    Float(f64),
    Null,
    Other,
}

impl Claim<'_> {
    /// The value as a NumericDate, or `None` when it is not a number or does not fit.
    fn numeric_date(self, round: Round) -> Option<i64> {
        match self {
            Self::Int(seconds) => Some(seconds),
            Self::UInt(seconds) => i64::try_from(seconds).ok(),
            Self::Float(seconds) => numeric_date::from_f64(seconds, round),
            Self::Str(_) | Self::Null | Self::Other => None,
        }
    }
}

impl<'de> de::Deserialize<'de> for Claim<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ClaimVisitor)
    }
}

struct ClaimVisitor;

impl<'de> Visitor<'de> for ClaimVisitor {
    type Value = Claim<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Claim::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Claim::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Claim::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Claim::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Claim::Float(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Claim::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Claim::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Claim::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Claim::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Claim::Other)
    }
}

/// Reads `aud` and answers whether it names the expected audience: `Some(bool)` for a string
/// or an array of strings, `None` for any other shape.
struct AudienceSeed<'r>(&'r str);

impl<'de> DeserializeSeed<'de> for AudienceSeed<'_> {
    type Value = Option<bool>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AudienceSeed<'_> {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an audience")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v == self.0))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Every element must be a string, even after a match: a malformed `aud` is refused
        // whatever else it contains.
        let (mut named, mut well_formed) = (false, true);
        while let Some(element) = seq.next_element::<Claim<'de>>()? {
            match element {
                Claim::Str(audience) => named |= audience == self.0,
                _ => well_formed = false,
            }
        }
        Ok(well_formed.then_some(named))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules<'r>(required: &'r [Box<str>]) -> Rules<'r> {
        Rules {
            audience: "agent-b",
            required,
            read_scope: true,
        }
    }

    #[test]
    fn reads_registered_claims_and_required_presence() {
        let required: Vec<Box<str>> = vec!["jti".into(), "sub".into(), "exp".into()];
        let payload = br#"{"iss":"https://iam","aud":["x","agent-b"],"exp":2000.9,"nbf":999.1,
            "iat":1000,"jti":"t1","sub":null,"scope":"a b","tctx":{"deep":[1,{"x":2}]}}"#;
        let r = read(payload, &rules(&required)).unwrap();
        assert_eq!(r.iss.as_deref(), Some("https://iam"));
        assert!(matches!(r.iss, Some(Cow::Borrowed(_))));
        assert_eq!(r.aud, Some(true));
        assert_eq!((r.exp, r.nbf, r.iat), (Some(2000), Some(1000), Some(1000)));
        assert_eq!(r.scope.as_deref(), Some("a b"));
        // `jti` and `exp` present; `sub` is null, which counts as absent.
        assert_eq!(r.required_seen, 0b101);
    }

    #[test]
    fn each_malformed_claim_has_its_own_error() {
        let none: Vec<Box<str>> = vec![];
        let cases: [(&[u8], ValidationError); 8] = [
            (
                br#"{"exp":"2000"}"#,
                ValidationError::NotANumericDate("exp"),
            ),
            (br#"{"nbf":null}"#, ValidationError::NotANumericDate("nbf")),
            (br#"{"iat":1e300}"#, ValidationError::NotANumericDate("iat")),
            (
                br#"{"exp":18446744073709551615}"#,
                ValidationError::NotANumericDate("exp"),
            ),
            (
                br#"{"iss":1}"#,
                ValidationError::InvalidClaim {
                    claim: "iss",
                    expected: "a string",
                },
            ),
            (
                br#"{"aud":["agent-b",7]}"#,
                ValidationError::InvalidClaim {
                    claim: "aud",
                    expected: "a string or an array of strings",
                },
            ),
            (
                br#"{"iss":"a","iss":"b"}"#,
                ValidationError::DuplicateClaim("iss"),
            ),
            (
                br#"[1,2]"#,
                ValidationError::Jws(JwsError::NotJsonObject(Segment::Payload)),
            ),
        ];
        for (payload, expected) in cases {
            let got = read(payload, &rules(&none)).unwrap_err();
            assert_eq!(got, expected, "{}", String::from_utf8_lossy(payload));
        }
        let trailing = read(br#"{"exp":1} x"#, &rules(&none)).unwrap_err();
        assert_eq!(
            trailing,
            ValidationError::Jws(JwsError::NotJsonObject(Segment::Payload))
        );
    }
}
