//! Why a DPoP proof, or the way a DPoP-bound token was presented, was refused.

use crate::jwk::JwkError;
use crate::jws::JwsError;
use crate::{Algorithm, dpop::htu::HtuError};

/// The OAuth `error` code for a proof the server refused (RFC 9449 §5, §7.1).
pub const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";
/// The OAuth `error` code asking the client to retry with the nonce in `DPoP-Nonce`
/// (RFC 9449 §8, §9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";
/// The OAuth `error` code for a token whose binding failed (RFC 6750 §3.1, RFC 9449 §7.1).
pub const INVALID_TOKEN: &str = "invalid_token";
/// The OAuth `error` code for an ambiguous or malformed request (RFC 6750 §3.1).
pub const INVALID_REQUEST: &str = "invalid_request";

/// Why the `nonce` claim was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceRejection {
    /// The server requires a nonce and the proof has none.
    Missing,
    /// The nonce was issued by this server but is no longer current.
    Stale,
    /// The nonce was never issued by this server (or by a replica sharing its secret).
    Invalid,
}

impl std::fmt::Display for NonceRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "the proof has no nonce",
            Self::Stale => "the proof's nonce has expired",
            Self::Invalid => "the proof's nonce was not issued by this server",
        })
    }
}

/// Every way a DPoP proof or a DPoP-bound token presentation fails, one variant each, so the
/// log line says exactly which check refused the request.
///
/// Values that came from the client are shortened and printed with `{:?}`, so that a hostile
/// proof can neither forge log lines with control characters nor flood them. Nothing secret is
/// carried: proofs are public once sent, and access tokens never appear here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    // --- The HTTP request (RFC 9449 §4.3 point 1, §7.1, §7.2) ---
    #[error("the request has no DPoP header")]
    MissingProof,
    #[error("the request has more than one DPoP header")]
    MultipleProofs,
    #[error("the DPoP header is not visible ASCII")]
    ProofHeaderNotText,
    #[error("the request has more than one Authorization header")]
    MultipleAuthorization,
    #[error("the Authorization header is not `<scheme> <token68>`")]
    MalformedAuthorization,
    #[error("the Authorization scheme is neither DPoP nor Bearer")]
    UnsupportedScheme,
    #[error("a DPoP-bound token was presented with the Bearer scheme")]
    BoundTokenAsBearer,
    #[error("the token is presented with a DPoP proof but is not bound to a DPoP key")]
    TokenNotBound,
    #[error("the token's `cnf` claim is malformed or names a binding this system cannot check")]
    MalformedConfirmation,

    // --- The JWT itself (points 2, 4, 5, 6, 7) ---
    #[error("the proof is not a well-formed JWS: {0}")]
    MalformedJwt(JwsError),
    #[error("the proof uses `alg: none`")]
    AlgNone,
    #[error("the proof's algorithm {:?} is not allowed", shown(.0))]
    AlgorithmNotAllowed(String),
    /// `found` is `None` when the header has no `typ`, or a non-string one.
    #[error("the proof's `typ` is {}, not `dpop+jwt`", typ_shown(.found))]
    WrongType { found: Option<String> },
    #[error("the proof header has no `jwk` object")]
    MissingJwk,
    #[error("the proof's `jwk` contains the private key member `{0}`")]
    PrivateKeyInJwk(&'static str),
    #[error("the proof's `jwk` is not an acceptable public key: {0}")]
    InvalidJwk(JwkError),
    #[error("the proof's `jwk` is a {key} key but its `alg` is {proof}")]
    KeyAlgorithmMismatch { key: Algorithm, proof: Algorithm },
    #[error("the proof's signature does not verify with its `jwk`")]
    BadSignature,

    // --- The claims (points 3, 8 to 12) ---
    #[error("the proof has no `{0}` claim")]
    MissingClaim(&'static str),
    #[error("the proof's `{0}` claim has the wrong type or is empty")]
    InvalidClaim(&'static str),
    #[error("the proof is for method {:?}, the request is {expected}", shown(.found))]
    HtmMismatch { expected: String, found: String },
    #[error("the proof's `htu` is not an http(s) URI: {0}")]
    InvalidHtu(HtuError),
    #[error("the proof is for {:?}, the request is for {expected}", shown(.found))]
    HtuMismatch { expected: String, found: String },
    /// The client must retry with `nonce` (send it in the `DPoP-Nonce` response header).
    #[error("a fresh DPoP nonce is required: {reason}")]
    UseDpopNonce {
        nonce: String,
        reason: NonceRejection,
    },
    #[error("the proof was issued at {iat}, more than {max_age} s before now ({now})")]
    IatTooOld { iat: i64, now: i64, max_age: i64 },
    #[error("the proof was issued at {iat}, more than {leeway} s after now ({now})")]
    IatInFuture { iat: i64, now: i64, leeway: i64 },
    #[error("the proof accompanies an access token but has no `ath` claim")]
    AthMissing,
    #[error("the proof's `ath` is not the hash of the presented access token")]
    AthMismatch,
    #[error("the proof's key {found} is not the key {expected} the token is bound to")]
    JktMismatch { expected: String, found: String },
    #[error("the proof's `jti` was already used within the acceptance window")]
    Replayed,
    /// The replay cache holds as many live entries as it may. The proof may be perfectly good;
    /// it is refused because it could not be recorded, and accepting an unrecorded proof would
    /// open a replay window. An edge may answer 503 rather than 401 for this one.
    #[error("the replay cache is full; the proof cannot be recorded and is refused")]
    ReplayCacheFull,
}

impl DpopError {
    /// The OAuth `error` code for the response (`WWW-Authenticate` at a resource server, the JSON
    /// body at a token endpoint).
    ///
    /// The token's own binding failing (Bearer downgrade, missing or foreign `cnf.jkt`) is
    /// `invalid_token`, as RFC 9449 §7.1's "Invalid DPoP key binding" example shows; the proof
    /// failing any §4.3 check is `invalid_dpop_proof`; a missing or stale nonce is
    /// `use_dpop_nonce`; an ambiguous `Authorization` is `invalid_request` (RFC 9449 §7.2).
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::UseDpopNonce { .. } => USE_DPOP_NONCE,
            Self::BoundTokenAsBearer
            | Self::TokenNotBound
            | Self::MalformedConfirmation
            | Self::JktMismatch { .. } => INVALID_TOKEN,
            Self::MultipleAuthorization
            | Self::MalformedAuthorization
            | Self::UnsupportedScheme => INVALID_REQUEST,
            Self::MissingProof
            | Self::MultipleProofs
            | Self::ProofHeaderNotText
            | Self::MalformedJwt(_)
            | Self::AlgNone
            | Self::AlgorithmNotAllowed(_)
            | Self::WrongType { .. }
            | Self::MissingJwk
            | Self::PrivateKeyInJwk(_)
            | Self::InvalidJwk(_)
            | Self::KeyAlgorithmMismatch { .. }
            | Self::BadSignature
            | Self::MissingClaim(_)
            | Self::InvalidClaim(_)
            | Self::HtmMismatch { .. }
            | Self::InvalidHtu(_)
            | Self::HtuMismatch { .. }
            | Self::IatTooOld { .. }
            | Self::IatInFuture { .. }
            | Self::AthMissing
            | Self::AthMismatch
            | Self::Replayed
            | Self::ReplayCacheFull => INVALID_DPOP_PROOF,
        }
    }

    /// The nonce to send back in the `DPoP-Nonce` response header, when the client must retry
    /// with one.
    pub fn fresh_nonce(&self) -> Option<&str> {
        match self {
            Self::UseDpopNonce { nonce, .. } => Some(nonce),
            _ => None,
        }
    }

    /// Maps the generic JWS errors onto the DPoP-specific ones, so the downgrade attempts the
    /// tests and logs care about (`none`, HMAC, a forged signature) have their own variants.
    pub(crate) fn from_jws(error: JwsError) -> Self {
        match error {
            JwsError::AlgNone => Self::AlgNone,
            JwsError::AlgorithmNotAllowed(name) => Self::AlgorithmNotAllowed(name),
            JwsError::BadSignature => Self::BadSignature,
            JwsError::KeyAlgorithmMismatch { key, token } => {
                Self::KeyAlgorithmMismatch { key, proof: token }
            }
            other => Self::MalformedJwt(other),
        }
    }

    pub(crate) fn from_jwk(error: JwkError) -> Self {
        match error {
            JwkError::PrivateMember(member) => Self::PrivateKeyInJwk(member),
            other => Self::InvalidJwk(other),
        }
    }
}

/// A client-supplied value, cut to a length that keeps a log line readable.
fn shown(value: &str) -> &str {
    const MAX_CHARS: usize = 80;
    value
        .char_indices()
        .nth(MAX_CHARS)
        .map_or(value, |(end, _)| &value[..end])
}

fn typ_shown(found: &Option<String>) -> String {
    found
        .as_deref()
        .map_or_else(|| "absent".to_owned(), |typ| format!("{:?}", shown(typ)))
}

/// Why a proof could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the system random number generator failed")]
    Rng,
    #[error("signing the proof failed: {0}")]
    Signing(#[from] JwsError),
}

/// Why a verifier, replay cache or nonce source could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopConfigError {
    #[error("at least one proof algorithm must be allowed")]
    NoAlgorithms,
    #[error("the proof age limit must be positive and the future leeway not negative")]
    BadWindow,
    #[error("the replay cache capacity must be positive")]
    ZeroCapacity,
    #[error("the nonce lifetime must be positive")]
    ZeroNonceLifetime,
    #[error("the system random number generator failed")]
    Rng,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_cut_and_escaped_in_messages() {
        let error = DpopError::HtuMismatch {
            expected: "https://a.example/".into(),
            found: format!("https://a.example/\n{}", "x".repeat(5000)),
        };
        let message = error.to_string();
        assert!(message.len() < 200, "{message}");
        assert!(!message.contains('\n'));
        let error = DpopError::WrongType { found: None };
        assert_eq!(
            error.to_string(),
            "the proof's `typ` is absent, not `dpop+jwt`"
        );
    }

    #[test]
    fn codes_follow_rfc_9449() {
        let nonce = DpopError::UseDpopNonce {
            nonce: "n".into(),
            reason: NonceRejection::Missing,
        };
        assert_eq!(nonce.error_code(), USE_DPOP_NONCE);
        assert_eq!(nonce.fresh_nonce(), Some("n"));
        assert_eq!(DpopError::Replayed.error_code(), INVALID_DPOP_PROOF);
        assert_eq!(DpopError::Replayed.fresh_nonce(), None);
        assert_eq!(DpopError::BoundTokenAsBearer.error_code(), INVALID_TOKEN);
        assert_eq!(
            DpopError::MultipleAuthorization.error_code(),
            INVALID_REQUEST
        );
    }
}
