//! Conversions between the standard library's clock and certificate dates.

use std::time::{Duration, SystemTime};

use time::OffsetDateTime;

use crate::error::PkiError;

/// How far before "now" certificates start to be valid, so that a peer whose clock runs a little
/// behind does not see a fresh SVID as not yet valid.
pub(crate) const BACKDATE: Duration = Duration::from_secs(60);

pub(crate) fn to_offset(at: SystemTime, what: &'static str) -> Result<OffsetDateTime, PkiError> {
    let since_epoch = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| PkiError::TimeOutOfRange(what))?;
    let seconds =
        i64::try_from(since_epoch.as_secs()).map_err(|_| PkiError::TimeOutOfRange(what))?;
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| PkiError::TimeOutOfRange(what))
}

pub(crate) fn from_unix(seconds: i64) -> SystemTime {
    let offset = Duration::from_secs(seconds.unsigned_abs());
    let at = if seconds >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(offset)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(offset)
    };
    at.unwrap_or(SystemTime::UNIX_EPOCH)
}

/// `2026-05-01 12:00:00 UTC`, for the report.
pub(crate) fn display(at: SystemTime) -> String {
    match to_offset(at, "date") {
        Ok(at) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        ),
        Err(_) => "(out of range)".to_owned(),
    }
}
