//! W3C Trace Context `traceparent` (W3C Recommendation "Trace Context", §3.2):
//! `version "-" trace-id "-" parent-id "-" trace-flags`, e.g.
//! `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
//!
//! Parsing follows the spec's rules: lower-case hex only; version `ff` is invalid; version `00`
//! is exactly 55 characters; a higher version is read by the version-00 layout and may carry more
//! fields after a `-`, which are ignored (§3.2.4); all-zero trace and parent ids are invalid.
//! Only the `sampled` flag is defined (§3.2.2.5); other flags are ignored when read and sent as
//! zero. Whatever version came in, this crate sends version `00`, the highest it knows.

use crate::random::{self, RandomSource, RandomnessUnavailable};
use std::fmt;
use std::str::FromStr;

/// A valid trace context.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    sampled: bool,
}

/// Why a `traceparent` value was refused. Each names the rule of §3.2 it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTraceParent {
    /// Shorter than 55 characters, longer than 55 for version `00`, or longer than
    /// [`TraceParent::MAX_LEN`] for a future version.
    #[error("traceparent has the wrong length")]
    Length,
    /// The version is not two lower-case hex digits, or it is the forbidden `ff`.
    #[error("traceparent version is invalid")]
    Version,
    /// A `-` is missing at this character offset.
    #[error("traceparent lacks a '-' at offset {0}")]
    Delimiter(usize),
    /// The trace id is not 32 lower-case hex digits.
    #[error("traceparent trace-id is not 32 lower-case hex digits")]
    TraceId,
    /// The trace id is all zeros.
    #[error("traceparent trace-id is all zeros")]
    ZeroTraceId,
    /// The parent id is not 16 lower-case hex digits.
    #[error("traceparent parent-id is not 16 lower-case hex digits")]
    ParentId,
    /// The parent id is all zeros.
    #[error("traceparent parent-id is all zeros")]
    ZeroParentId,
    /// The flags are not two lower-case hex digits.
    #[error("traceparent trace-flags are not 2 lower-case hex digits")]
    Flags,
}

/// Length of a version-00 value, and the minimum length of any version.
const V00_LEN: usize = 55;
/// The only flag defined by version 00 (§3.2.2.5).
const SAMPLED: u8 = 0x01;

impl TraceParent {
    /// Upper bound on the length of a future-version value this crate reads; no current header
    /// needs more, and a bound keeps an attacker from making us scan a large value.
    pub const MAX_LEN: usize = 512;

    /// Starts a new trace: random trace and parent ids, sampled.
    pub fn generate(rng: &dyn RandomSource) -> Result<Self, RandomnessUnavailable> {
        Ok(Self {
            trace_id: random::nonzero_bytes(rng)?,
            parent_id: random::nonzero_bytes(rng)?,
            sampled: true,
        })
    }

    /// The context for an outgoing call made while handling this one: same trace, a new parent
    /// id (this hop's span), same sampling decision (§3.2.2.4, §4.3).
    pub fn child(&self, rng: &dyn RandomSource) -> Result<Self, RandomnessUnavailable> {
        Ok(Self {
            parent_id: random::nonzero_bytes(rng)?,
            ..*self
        })
    }

    /// Parses and validates a `traceparent` value.
    pub fn parse(value: &str) -> Result<Self, InvalidTraceParent> {
        let bytes = value.as_bytes();
        if bytes.len() < V00_LEN {
            return Err(InvalidTraceParent::Length);
        }
        let version = hex_field::<1>(&bytes[0..2]).ok_or(InvalidTraceParent::Version)?[0];
        match version {
            0xff => return Err(InvalidTraceParent::Version),
            0x00 if bytes.len() != V00_LEN => return Err(InvalidTraceParent::Length),
            _ if bytes.len() > Self::MAX_LEN => return Err(InvalidTraceParent::Length),
            // A future version may append fields, but only after a '-' (§3.2.4).
            _ if bytes.len() > V00_LEN && bytes[V00_LEN] != b'-' => {
                return Err(InvalidTraceParent::Delimiter(V00_LEN));
            }
            _ => {}
        }
        for offset in [2, 35, 52] {
            if bytes[offset] != b'-' {
                return Err(InvalidTraceParent::Delimiter(offset));
            }
        }
        let trace_id = hex_field::<16>(&bytes[3..35]).ok_or(InvalidTraceParent::TraceId)?;
        if trace_id == [0; 16] {
            return Err(InvalidTraceParent::ZeroTraceId);
        }
        let parent_id = hex_field::<8>(&bytes[36..52]).ok_or(InvalidTraceParent::ParentId)?;
        if parent_id == [0; 8] {
            return Err(InvalidTraceParent::ZeroParentId);
        }
        let flags = hex_field::<1>(&bytes[53..55]).ok_or(InvalidTraceParent::Flags)?[0];
        Ok(Self {
            trace_id,
            parent_id,
            sampled: flags & SAMPLED != 0,
        })
    }

    /// The trace id as 32 lower-case hex digits: what ties the log lines of all hops together.
    pub fn trace_id(&self) -> String {
        hex(&self.trace_id)
    }

    /// The parent id (the sender's span id) as 16 lower-case hex digits.
    pub fn parent_id(&self) -> String {
        hex(&self.parent_id)
    }

    /// Whether the caller may have recorded its part of the trace.
    pub fn sampled(&self) -> bool {
        self.sampled
    }
}

impl FromStr for TraceParent {
    type Err = InvalidTraceParent;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

/// The version-00 serialisation.
impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = if self.sampled { SAMPLED } else { 0 };
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&self.parent_id),
            flags
        )
    }
}

impl fmt::Debug for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceParent({self})")
    }
}

/// Decodes exactly `2 * N` lower-case hex digits (`HEXDIGLC`, §3.2.2).
fn hex_field<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(out)
}

const fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
