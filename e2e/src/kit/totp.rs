//! The demo users' second factor, as their authenticator app would compute it (RFC 6238, with
//! the external IAM's own implementation and the secrets `seed-demo` stores), never replayed.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use external_iam::admin::demo::{self, DemoUser};
use external_iam::mfa::Totp;
use external_iam::mfa::totp::STEP_SECONDS;

/// A seeded demo user (`alice`, `bob`, `carol`); panics for any other name.
pub fn demo_user(username: &str) -> &'static DemoUser {
    demo::USERS
        .iter()
        .find(|user| user.username == username)
        .unwrap_or_else(|| panic!("{username:?} is not a demo user (alice, bob, carol)"))
}

/// The code `username`'s authenticator shows at `unix_seconds`.
pub fn code_at(username: &str, unix_seconds: i64) -> String {
    match Totp::from_base32(demo_user(username).totp_secret) {
        Ok(totp) => totp.code_at(unix_seconds),
        // The demo secrets are constants, checked by the external IAM's tests.
        Err(error) => unreachable!("the demo TOTP secret is base32: {error}"),
    }
}

/// Codes for one system. The IAM refuses a code of a time step it already accepted for the
/// user (RFC 6238 §5.2), so a second login of the same user within 30 seconds must wait for the
/// next step: [`TotpCodes::fresh`] does, as a person would.
#[derive(Debug, Default)]
pub struct TotpCodes {
    last_step: Mutex<HashMap<String, i64>>,
}

impl TotpCodes {
    /// A code of a time step not used yet for `username` in this system, waiting for the next
    /// step if needed (at most 30 seconds).
    pub async fn fresh(&self, username: &str) -> String {
        loop {
            match self.take(username, unix_now()) {
                Ok(code) => return code,
                // Just past the boundary, so the next round is on the new step.
                Err(wait) => tokio::time::sleep(wait + Duration::from_millis(50)).await,
            }
        }
    }

    /// The code of the step of `now` if that step is unused for `username` (and marks it used),
    /// or how long until the next step begins.
    fn take(&self, username: &str, now: Duration) -> Result<String, Duration> {
        let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let step = Totp::step_at(seconds);
        let mut used = self
            .last_step
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if used.get(username).is_none_or(|last| step > *last) {
            used.insert(username.to_owned(), step);
            return Ok(code_at(username, seconds));
        }
        let next = u64::try_from((step + 1) * STEP_SECONDS).unwrap_or(u64::MAX);
        Err(Duration::from_secs(next).saturating_sub(now))
    }
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1, truncated to the 6 digits authenticator apps show: the seed
    /// is the ASCII "12345678901234567890"; the 8-digit values are 94287082 at T = 59 and
    /// 07081804 at T = 1111111109.
    #[test]
    fn the_iam_implementation_matches_the_rfc_vectors() {
        let totp = Totp::new(b"12345678901234567890".to_vec());
        assert_eq!(totp.code_at(59), "287082");
        assert_eq!(totp.code_at(1_111_111_109), "081804");
        assert_eq!(totp.code_at(1_111_111_111), "050471");
        assert_eq!(totp.code_at(1_234_567_890), "005924");
    }

    #[test]
    fn demo_codes_come_from_the_seeded_secrets() {
        // JBSWY3DPEHPK3PXP… is alice's documented secret.
        let alice = Totp::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(
            code_at("alice", 1_800_000_000),
            alice.code_at(1_800_000_000)
        );
        assert_ne!(
            code_at("bob", 1_800_000_000),
            code_at("alice", 1_800_000_000)
        );
    }

    #[test]
    #[should_panic(expected = "\"mallory\" is not a demo user")]
    fn unknown_users_are_refused() {
        demo_user("mallory");
    }

    #[test]
    fn a_step_is_used_once_per_user() {
        let codes = TotpCodes::default();
        let at = |seconds: f64| Duration::from_secs_f64(seconds);
        assert_eq!(
            codes.take("alice", at(1_800_000_010.0)),
            Ok(code_at("alice", 1_800_000_010))
        );
        // Same step (1_800_000_000 is a multiple of 30): wait for 1_800_000_030.
        assert_eq!(codes.take("alice", at(1_800_000_029.5)), Err(at(0.5)));
        // Another user is not held up.
        assert!(codes.take("bob", at(1_800_000_029.5)).is_ok());
        assert_eq!(
            codes.take("alice", at(1_800_000_030.0)),
            Ok(code_at("alice", 1_800_000_030))
        );
    }
}
