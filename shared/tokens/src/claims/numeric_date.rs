//! `NumericDate` (RFC 7519 §2): seconds since the Unix epoch, as a JSON number.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Which way to round a non-integer date.
///
/// RFC 7519 §2 allows fractional seconds. Each check rounds towards refusal: an expiry is
/// rounded down (the token ends sooner), a start (`nbf`, `iat`) up (it starts later), so
/// rounding can never make a token valid for a moment longer than its issuer said.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Round {
    Down,
    Up,
}

/// A JSON float as whole seconds, or `None` when it does not fit an `i64`.
pub(crate) fn from_f64(seconds: f64, round: Round) -> Option<i64> {
    let whole = match round {
        Round::Down => seconds.floor(),
        Round::Up => seconds.ceil(),
    };
    // `i64::MAX as f64` rounds up to 2^63, which is itself out of range: hence `<`, not `<=`.
    // Inside that range the `as` conversion is exact for whole numbers.
    let in_range = whole.is_finite() && whole >= i64::MIN as f64 && whole < i64::MAX as f64;
    in_range.then_some(whole as i64)
}

/// A NumericDate read leniently about form (integer or float) but not about type: a string,
/// boolean or `null` is refused.
struct Seconds(i64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;
        impl Visitor<'_> for SecondsVisitor {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate (a JSON number of seconds since the epoch)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                Ok(Seconds(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                i64::try_from(v)
                    .map(Seconds)
                    .map_err(|_| E::custom("a NumericDate out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                // These structs are read after the validator checked the dates with the
                // conservative rounding; here the value is only informational.
                from_f64(v, Round::Down)
                    .map(Seconds)
                    .ok_or_else(|| E::custom("a NumericDate out of range"))
            }
        }
        deserializer.deserialize_any(SecondsVisitor)
    }
}

/// `#[serde(deserialize_with = "numeric_date::required")]` for an `i64` date.
pub(crate) fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Seconds::deserialize(deserializer).map(|s| s.0)
}

/// `#[serde(default, deserialize_with = "numeric_date::optional")]` for an `Option<i64>` date.
pub(crate) fn optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    Option::<Seconds>::deserialize(deserializer).map(|s| s.map(|s| s.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_round_towards_refusal_and_range_is_checked() {
        assert_eq!(from_f64(10.5, Round::Down), Some(10));
        assert_eq!(from_f64(10.5, Round::Up), Some(11));
        assert_eq!(from_f64(-0.5, Round::Down), Some(-1));
        assert_eq!(from_f64(1e300, Round::Down), None);
        assert_eq!(from_f64(9.3e18, Round::Down), None);
        assert_eq!(from_f64(f64::NAN, Round::Up), None);
    }
}
