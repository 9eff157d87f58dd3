//! TOTP (RFC 6238) over HOTP (RFC 4226), with the parameters every authenticator app uses:
//! HMAC-SHA-1, 6 digits, 30-second steps, counted from the Unix epoch.
//!
//! SHA-1 is what Google Authenticator, Authy, 1Password and the rest implement by default; an
//! `otpauth://` URI asking for SHA-256 is silently read as SHA-1 by several of them, which would
//! lock the customer out. HMAC-SHA-1 is not affected by SHA-1's collision weakness.
//!
//! Replay protection is the caller's: [`Totp::verify`] returns the accepted time step, which the
//! caller stores and passes back as `last_used_step`, so a code (or any code of an earlier step)
//! is refused once one has been accepted (RFC 6238 §5.2).

use std::fmt;

use ring::hmac;

use super::base32;

/// Seconds per time step (RFC 6238 §4: X = 30 by default).
pub const STEP_SECONDS: i64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Secret length generated for new users: 160 bits, the HMAC-SHA-1 block-size recommendation of
/// RFC 4226 §4 (R6).
pub const SECRET_BYTES: usize = 20;
/// Steps accepted either side of the current one (RFC 6238 §5.2 recommends at most one step of
/// network delay). One step back covers a code typed just before it rolled over; one ahead, a
/// phone clock slightly fast.
const WINDOW: i64 = 1;

/// A TOTP secret. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Totp {
    key: Vec<u8>,
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("the code is not six digits")]
    Malformed,
    #[error("the code is not valid at this time")]
    Wrong,
    #[error("the code was already used (or a later one was)")]
    Replayed,
}

impl Totp {
    /// A secret from raw bytes.
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    /// A secret from its base32 form.
    pub fn from_base32(text: &str) -> Result<Self, base32::Base32Error> {
        base32::decode(text).map(Self::new)
    }

    /// The base32 form, as shown to people and put in `otpauth://` URIs.
    pub fn to_base32(&self) -> String {
        base32::encode(&self.key)
    }

    /// The time step of `unix_seconds` (RFC 6238 §4.2, T0 = 0).
    pub fn step_at(unix_seconds: i64) -> i64 {
        unix_seconds.div_euclid(STEP_SECONDS)
    }

    /// The HOTP value for counter `step` (RFC 4226 §5.3), as a zero-padded 6-digit string.
    pub fn code_for_step(&self, step: i64) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.key);
        let tag = hmac::sign(&key, &step.to_be_bytes());
        let digest = tag.as_ref();
        // Dynamic truncation (RFC 4226 §5.3): the low nibble of the last byte picks the offset.
        let offset = usize::from(digest[digest.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        format!(
            "{:0width$}",
            binary % 10u32.pow(DIGITS),
            width = DIGITS as usize
        )
    }

    /// The code an authenticator shows at `unix_seconds`.
    pub fn code_at(&self, unix_seconds: i64) -> String {
        self.code_for_step(Self::step_at(unix_seconds))
    }

    /// Checks `code` at `unix_seconds`, refusing the step `last_used_step` and every earlier
    /// one. Returns the matched step, which the caller must store before accepting the login.
    ///
    /// Every step of the window is computed and compared in constant time, so the time taken
    /// does not tell which step (if any) matched.
    pub fn verify(
        &self,
        code: &str,
        unix_seconds: i64,
        last_used_step: Option<i64>,
    ) -> Result<i64, TotpError> {
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Malformed);
        }
        let now = Self::step_at(unix_seconds);
        let mut matched = None;
        for step in now - WINDOW..=now + WINDOW {
            if constant_time_eq(self.code_for_step(step).as_bytes(), code.as_bytes()) {
                matched.get_or_insert(step);
            }
        }
        match matched {
            None => Err(TotpError::Wrong),
            Some(step) if last_used_step.is_some_and(|last| step <= last) => {
                Err(TotpError::Replayed)
            }
            Some(step) => Ok(step),
        }
    }

    /// The `otpauth://totp/` URI an authenticator app scans (the de-facto Key URI Format:
    /// label `issuer:account`, every part percent-encoded, spaces as `%20`).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            percent_encode(issuer),
            percent_encode(account),
            self.to_base32(),
            percent_encode(issuer),
        )
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Byte comparison whose time depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Totp(<secret>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the 8-digit values; authenticator apps show the last
    /// six digits (the truncation is `binary mod 10^digits`, so the low six digits agree).
    const SHA1_VECTORS: [(i64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    fn rfc_secret() -> Totp {
        Totp::new(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_known_answers() {
        let totp = rfc_secret();
        for (time, eight_digits) in SHA1_VECTORS {
            assert_eq!(totp.code_at(time), eight_digits[2..], "T = {time}");
        }
    }

    #[test]
    fn rfc_4226_appendix_d_hotp_known_answers() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let totp = rfc_secret();
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(totp.code_for_step(counter as i64), *code);
        }
    }

    #[test]
    fn accepts_one_step_either_side_and_refuses_replays() {
        let totp = rfc_secret();
        let now = 1_111_111_111;
        let step = Totp::step_at(now);
        assert_eq!(totp.verify(&totp.code_at(now), now, None), Ok(step));
        assert_eq!(
            totp.verify(&totp.code_at(now - 30), now, None),
            Ok(step - 1)
        );
        assert_eq!(
            totp.verify(&totp.code_at(now + 30), now, None),
            Ok(step + 1)
        );
        assert_eq!(
            totp.verify(&totp.code_at(now - 60), now, None),
            Err(TotpError::Wrong)
        );
        assert_eq!(
            totp.verify(&totp.code_at(now), now, Some(step)),
            Err(TotpError::Replayed)
        );
        // An older code stays refused after a newer one was used.
        assert_eq!(
            totp.verify(&totp.code_at(now - 30), now, Some(step)),
            Err(TotpError::Replayed)
        );
        assert_eq!(totp.verify("12345", now, None), Err(TotpError::Malformed));
        assert_eq!(totp.verify("12345a", now, None), Err(TotpError::Malformed));
    }

    #[test]
    fn otpauth_uri_carries_the_parameters_apps_read() {
        let uri = rfc_secret().otpauth_uri("Example IAM", "alice");
        assert!(
            uri.starts_with("otpauth://totp/Example%20IAM:alice?"),
            "{uri}"
        );
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(uri.ends_with("&issuer=Example%20IAM&algorithm=SHA1&digits=6&period=30"));
        assert!(!format!("{:?}", rfc_secret()).contains("GEZ"));
    }
}
