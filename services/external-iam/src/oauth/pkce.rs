//! PKCE (RFC 7636) with the S256 method only.
//!
//! `plain` is refused even though RFC 7636 §4.2 allows it: it protects nothing against an
//! attacker who can read the authorization request, which is the threat PKCE exists for, and
//! OAuth 2.1 and the OAuth Security BCP (RFC 9700 §2.1.1) steer every client to S256.

use ring::digest::{SHA256, digest};

/// Why a `code_challenge` or `code_verifier` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge is required (PKCE with S256 is mandatory for every client)")]
    MissingChallenge,
    #[error("code_challenge_method must be S256; `plain` and other methods are not accepted")]
    MethodNotS256,
    #[error("code_challenge must be the 43-character base64url SHA-256 of the verifier")]
    MalformedChallenge,
    #[error("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")]
    MalformedVerifier,
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

/// A validated S256 code challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Reads `code_challenge` and `code_challenge_method` from an authorization request.
    /// A missing method means `plain` (RFC 7636 §4.3), so it is refused too.
    pub fn from_request(challenge: Option<&str>, method: Option<&str>) -> Result<Self, PkceError> {
        let challenge = challenge.ok_or(PkceError::MissingChallenge)?;
        if method != Some("S256") {
            return Err(PkceError::MethodNotS256);
        }
        Self::stored(challenge).ok_or(PkceError::MalformedChallenge)
    }

    /// A challenge read back from storage (already validated when stored).
    pub fn stored(challenge: &str) -> Option<Self> {
        (challenge.len() == 43 && tokens::b64::decode(challenge).is_ok_and(|d| d.len() == 32))
            .then(|| Self(challenge.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// RFC 7636 §4.6: `BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge`.
    pub fn verify(&self, verifier: &str) -> Result<(), PkceError> {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !well_formed {
            return Err(PkceError::MalformedVerifier);
        }
        let computed = tokens::b64::encode(digest(&SHA256, verifier.as_bytes()));
        if crate::mfa::totp::constant_time_eq(computed.as_bytes(), self.0.as_bytes()) {
            Ok(())
        } else {
            Err(PkceError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b_example_verifies() {
        let challenge = CodeChallenge::from_request(Some(CHALLENGE), Some("S256")).unwrap();
        assert_eq!(challenge.verify(VERIFIER), Ok(()));
        let mut wrong = VERIFIER.to_owned();
        wrong.replace_range(0..1, "e");
        assert_eq!(challenge.verify(&wrong), Err(PkceError::Mismatch));
        assert_eq!(challenge.verify("short"), Err(PkceError::MalformedVerifier));
        assert_eq!(
            challenge.verify(&format!("{VERIFIER} ")),
            Err(PkceError::MalformedVerifier)
        );
    }

    #[test]
    fn plain_missing_and_malformed_challenges_are_refused() {
        assert_eq!(
            CodeChallenge::from_request(None, Some("S256")),
            Err(PkceError::MissingChallenge)
        );
        assert_eq!(
            CodeChallenge::from_request(Some(CHALLENGE), None),
            Err(PkceError::MethodNotS256)
        );
        assert_eq!(
            CodeChallenge::from_request(Some(CHALLENGE), Some("plain")),
            Err(PkceError::MethodNotS256)
        );
        assert_eq!(
            CodeChallenge::from_request(Some(CHALLENGE), Some("s256")),
            Err(PkceError::MethodNotS256)
        );
        assert_eq!(
            CodeChallenge::from_request(Some("abc"), Some("S256")),
            Err(PkceError::MalformedChallenge)
        );
    }
}
