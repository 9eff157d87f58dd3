//! Step 12: the customer's DPoP-bound access token and its proof.
//!
//! In order, each with the response it fails with (all carry the `WWW-Authenticate: DPoP`
//! challenge, RFC 9449 §7.1, and `Cache-Control: no-store`):
//!
//! | check | refused with |
//! |---|---|
//! | an `Authorization` header (Bearer or DPoP scheme) | 401, challenge alone (RFC 6750 §3.1) |
//! | exactly one, well formed (`<scheme> <token68>`) | 400 `invalid_request` |
//! | at most one `DPoP` header, visible ASCII | 401 `invalid_dpop_proof` |
//! | the token: `typ: at+jwt`, ES256, the external IAM's signature (its JWKS, cached, refetched once on an unknown `kid`), `iss`, `aud` ∋ this API's resource identifier, `exp`/`nbf`/`iat` with 30 s of skew, lifetime ≤ 15 min, `sub`, `jti`, `client_id`, `scope` present | 401 `invalid_token` (503 `temporarily_unavailable` if the keys cannot be had) |
//! | a DPoP-bound token (`cnf.jkt`) presented as `Bearer`, or any token as `Bearer` | 401 `invalid_token` (RFC 9449 §7.2) |
//! | the `DPoP` scheme with a proof | 401 `invalid_dpop_proof` |
//! | the proof (RFC 9449 §4.3): `typ`, algorithm, signature by its `jwk`, `htm` = `POST`, `htu` = this endpoint's configured URL, `iat` within 60 s (5 s ahead), `ath` = hash of this token, `jti` not seen before | 401 `invalid_dpop_proof` |
//! | the proof's key thumbprint = the token's `cnf.jkt` | 401 `invalid_token` (RFC 9449 §7.1) |
//! | scope `agent:invoke` | 403 `insufficient_scope`, `scope="agent:invoke"` |
//!
//! The scope is checked last, once the caller has proven possession of the token's key: a
//! stolen token without its key learns nothing about what it grants. The token is validated
//! before the proof is read (RFC 9449 leaves the order open): a client with a bad token gains
//! nothing from making a new proof, so `invalid_token` is the more useful answer.

mod keys;

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, Method};
use tokens::claims::AccessTokenClaims;
use tokens::dpop::{
    DpopConfig, DpopError, INVALID_DPOP_PROOF, INVALID_REQUEST, Presentation, check_presentation,
    credentials, proof_header,
};
use tokens::{Algorithm, DpopVerifier, Htu, KeySource, SharedClock, ValidationError, Validator};
use wire::jose::TYP_ACCESS_TOKEN;
use wire::scopes::AGENT_INVOKE;
use wire::{DpopChallenge, OAuthError};

pub use keys::{CustomerKeysError, external_jwks};

/// The realm of the `WWW-Authenticate` challenge.
pub const REALM: &str = "agent-b";

/// The external IAM signs with ES256; the design allows EdDSA too, but this resource accepts
/// exactly what its issuer uses, so an algorithm change is a deliberate configuration change.
const ALGORITHMS: [Algorithm; 1] = [Algorithm::Es256];

/// Claims every customer access token has besides `iss`, `aud` and `exp` (RFC 9068 §2.2).
/// Required by name so a missing one is refused as such, not as a shapeless claims error.
const REQUIRED_CLAIMS: [&str; 5] = ["sub", "jti", "iat", "client_id", "scope"];

/// The design caps customer access tokens at 15 minutes; one valid for longer is refused
/// whatever its issuer wrote.
const MAX_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Why step 12 could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum CustomerAuthSetupError {
    #[error("cannot build the token validator: {0}")]
    Validator(#[from] tokens::validate::BuildError),
    #[error("cannot build the DPoP verifier: {0}")]
    Dpop(#[from] tokens::dpop::DpopConfigError),
    #[error("the chat endpoint's URL is not a valid htu: {0}")]
    Htu(#[from] tokens::dpop::HtuError),
    #[error("cannot build the DPoP challenge: {0}")]
    Challenge(#[from] wire::ChallengeError),
}

/// Checks the customer's credentials on every chat request. Built once at start.
#[derive(Debug)]
pub struct CustomerAuth {
    validator: Validator,
    dpop: DpopVerifier,
    htu: Htu,
    challenge: DpopChallenge,
}

/// A customer whose token and proof passed every check of step 12, and whose token grants
/// `agent:invoke`. Only [`CustomerAuth::authenticate`] makes one.
pub struct VerifiedCustomer {
    claims: AccessTokenClaims,
    token: String,
    proof_jti: String,
}

impl CustomerAuth {
    /// `issuer` and `resource` are compared exactly; `htu` is the chat endpoint's public URL;
    /// `keys` the external IAM's JWKS.
    pub fn new(
        issuer: &str,
        resource: &str,
        htu: &str,
        keys: impl Into<KeySource>,
        clock: SharedClock,
    ) -> Result<Self, CustomerAuthSetupError> {
        let validator = Validator::builder()
            .issuer(issuer)
            .audience(resource)
            .typ(TYP_ACCESS_TOKEN)
            .algorithms(&ALGORITHMS)
            .require(&REQUIRED_CLAIMS)
            .max_lifetime(MAX_LIFETIME)
            .clock(clock.clone())
            .keys(keys)
            .build()?;
        // RFC 9449 leaves the proof window open; the shared defaults (60 s old, 5 s ahead, a
        // replay cache for 100,000 proofs) are explained in `tokens::dpop::DpopConfig`.
        let dpop = DpopVerifier::new(DpopConfig::default(), clock)?;
        let algs: Vec<&str> = dpop.algorithms().iter().map(|alg| alg.as_str()).collect();
        let challenge = DpopChallenge::new(REALM, &algs)?;
        Ok(Self {
            validator,
            dpop,
            htu: Htu::parse(htu)?,
            challenge,
        })
    }

    /// The `htu` proofs must carry.
    pub fn htu(&self) -> &Htu {
        &self.htu
    }

    /// Step 12's checks on a request's headers, in the order the module documentation gives.
    pub async fn authenticate(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<VerifiedCustomer, OAuthError> {
        let challenge = &self.challenge;
        let creds = match credentials(headers) {
            Ok(Some(creds)) => creds,
            // RFC 6750 §3.1: no credentials, or a scheme this resource does not know, gets the
            // challenge alone.
            Ok(None) | Err(DpopError::UnsupportedScheme) => {
                return Err(challenge.missing_credentials());
            }
            Err(error) => return Err(self.refusal(&error)),
        };
        let proof = proof_header(headers).map_err(|error| self.refusal(&error))?;

        let verified = self
            .validator
            .validate::<AccessTokenClaims>(creds.token)
            .await
            .map_err(|error| self.token_refusal(&error))?;
        let claims = verified.into_claims();

        let proof_jti = match check_presentation(creds.scheme, claims.dpop_jkt(), proof.is_some())
            .map_err(|error| self.refusal(&error))?
        {
            Presentation::Dpop { jkt } => self
                .dpop
                .verify(
                    proof.unwrap_or_default(),
                    method,
                    &self.htu,
                    Some(creds.token),
                    Some(jkt),
                )
                .map_err(|error| self.refusal(&error))?
                .jti()
                .to_owned(),
            // An unbound token with the Bearer scheme: never issued to customers here, and this
            // resource accepts proof of possession only.
            Presentation::Bearer => {
                return Err(challenge.invalid_token(
                    "this API accepts DPoP-bound access tokens with the DPoP scheme only",
                ));
            }
        };

        if !claims.scope.contains(AGENT_INVOKE) {
            return Err(challenge.insufficient_scope(
                AGENT_INVOKE,
                format!("the access token does not grant the scope {AGENT_INVOKE}"),
            ));
        }
        Ok(VerifiedCustomer {
            claims,
            token: creds.token.to_owned(),
            proof_jti,
        })
    }

    /// RFC 9449 §7.1: a proof that fails a §4.3 check is `invalid_dpop_proof`; a token whose
    /// binding fails (a bound token as Bearer, a proof by another key) is `invalid_token`; an
    /// ambiguous `Authorization` is `invalid_request`.
    fn refusal(&self, error: &DpopError) -> OAuthError {
        let description = error.to_string();
        match error {
            // The proof may be fine: it could not be recorded, and an unrecorded proof could be
            // replayed. The server's fault, so 503, not a verdict on the client.
            DpopError::ReplayCacheFull => OAuthError::temporarily_unavailable(description),
            _ => match error.error_code() {
                INVALID_DPOP_PROOF => self.challenge.invalid_dpop_proof(description),
                INVALID_REQUEST => self.challenge.invalid_request(description),
                _ => self.challenge.invalid_token(description),
            },
        }
    }

    /// Every fault of the token is `invalid_token`; keys that cannot be fetched mean the token
    /// was never judged: 503 (RFC 6749 §4.1.2.1 `temporarily_unavailable`).
    fn token_refusal(&self, error: &ValidationError) -> OAuthError {
        match error {
            ValidationError::KeysUnavailable(_) => OAuthError::temporarily_unavailable(
                "the customer token cannot be checked right now: the issuer's keys are unavailable",
            ),
            _ => self
                .challenge
                .invalid_token(format!("the access token was refused: {error}")),
        }
    }
}

impl VerifiedCustomer {
    /// The customer (`sub`).
    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    /// The access token's `jti`: how the token appears in logs.
    pub fn jti(&self) -> &str {
        &self.claims.jti
    }

    /// The DPoP proof's `jti`.
    pub fn proof_jti(&self) -> &str {
        &self.proof_jti
    }

    /// The validated claims.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.claims
    }

    /// The access token itself, for the token exchange (step 14) and nothing else: it never
    /// travels past Agent B and is never logged.
    pub fn access_token(&self) -> &str {
        &self.token
    }
}

/// The token is left out.
impl fmt::Debug for VerifiedCustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedCustomer")
            .field("sub", &self.claims.sub)
            .field("jti", &self.claims.jti)
            .field("proof_jti", &self.proof_jti)
            .finish_non_exhaustive()
    }
}
