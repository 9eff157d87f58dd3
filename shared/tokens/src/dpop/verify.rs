//! Checking DPoP proofs: the server side (RFC 9449 §4.3).

use std::fmt;

use http::Method;
use serde_json::{Map, Value};

use crate::dpop::replay::ReplayCache;
use crate::dpop::{
    DPOP_JWT_TYPE, DpopConfigError, DpopError, Htu, NonceRejection, NonceSource, access_token_hash,
};
use crate::jws::Compact;
use crate::{Algorithm, PublicJwk, SharedClock};

/// How a [`DpopVerifier`] is set up. The defaults suit the services of this system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopConfig {
    /// Proof algorithms accepted. Both are asymmetric: `none` and HMAC cannot be expressed.
    pub algorithms: Vec<Algorithm>,
    /// How many seconds after its `iat` a proof is still accepted.
    ///
    /// RFC 9449 §11.1 asks for "a relatively brief period on the order of seconds or minutes"
    /// and leaves the number open. 60 s covers a slow network and a queued request while
    /// keeping the replay cache to one minute of traffic.
    pub max_age: i64,
    /// How many seconds ahead of the server's clock a proof's `iat` may be.
    ///
    /// RFC 9449 §11.1 allows "the reasonably near future" for clock offset. 5 s tolerates
    /// NTP-synchronised hosts; more would widen the window for pre-generated proofs (§11.2).
    pub future_leeway: i64,
    /// How many accepted proofs the replay cache may hold: at least the peak rate of accepted
    /// proofs per second times `max_age + future_leeway`. See [`ReplayCache`].
    pub replay_capacity: usize,
}

impl Default for DpopConfig {
    fn default() -> Self {
        Self {
            algorithms: vec![Algorithm::Es256, Algorithm::EdDsa],
            max_age: 60,
            future_leeway: 5,
            replay_capacity: 100_000,
        }
    }
}

/// Checks DPoP proofs for one server: built once at start-up and shared by every handler.
pub struct DpopVerifier {
    algorithms: Vec<Algorithm>,
    max_age: i64,
    future_leeway: i64,
    clock: SharedClock,
    replay: ReplayCache,
    nonces: Option<NonceSource>,
}

/// A proof that passed every check. Only [`DpopVerifier::verify`] makes one, so a handler that
/// receives it knows the request was signed by the key with thumbprint [`Self::jkt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    jkt: String,
    jti: String,
    iat: i64,
    jwk: PublicJwk,
}

impl VerifiedProof {
    /// The RFC 7638 thumbprint of the proof's key: what a token endpoint puts in `cnf.jkt`.
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// The proof's `jti`, for audit logs.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The proof's `iat`.
    pub fn iat(&self) -> i64 {
        self.iat
    }

    /// The proof's public key.
    pub fn jwk(&self) -> &PublicJwk {
        &self.jwk
    }
}

impl DpopVerifier {
    /// A verifier that does not use nonces.
    pub fn new(config: DpopConfig, clock: SharedClock) -> Result<Self, DpopConfigError> {
        if config.algorithms.is_empty() {
            return Err(DpopConfigError::NoAlgorithms);
        }
        if config.max_age <= 0 || config.future_leeway < 0 {
            return Err(DpopConfigError::BadWindow);
        }
        Ok(Self {
            replay: ReplayCache::new(config.replay_capacity)?,
            algorithms: config.algorithms,
            max_age: config.max_age,
            future_leeway: config.future_leeway,
            clock,
            nonces: None,
        })
    }

    /// Requires every proof to carry a current nonce from `source` (RFC 9449 §8, §9).
    ///
    /// Proofs without one, or with a stale or foreign one, are refused with
    /// [`DpopError::UseDpopNonce`] carrying a fresh value for the client to retry with. The
    /// `iat` window is still enforced: the replay cache forgets a `jti` when its `iat` leaves the
    /// window, so accepting proofs by nonce age alone would reopen replay.
    pub fn require_nonces(mut self, source: NonceSource) -> Self {
        self.nonces = Some(source);
        self
    }

    /// The nonce to offer in a `DPoP-Nonce` response header, if this verifier uses nonces.
    /// Sending it on successful responses too (RFC 9449 §8.2) saves clients a round trip when
    /// the nonce rotates.
    pub fn fresh_nonce(&self) -> Option<String> {
        let now = self.clock.now();
        self.nonces.as_ref().map(|source| source.issue(now))
    }

    /// The accepted algorithms, for the `algs` parameter of a `WWW-Authenticate: DPoP`
    /// challenge (RFC 9449 §7.1).
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The replay cache, for metrics.
    pub fn replay_cache(&self) -> &ReplayCache {
        &self.replay
    }

    /// Checks `proof` (the single `DPoP` header value; see [`crate::dpop::proof_header`]) for a
    /// request with method `htm` to `htu`.
    ///
    /// At a protected resource pass the presented `access_token` and the `cnf.jkt` it is bound
    /// to; at a token endpoint pass no token, and the `dpop_jkt` of the authorization request or
    /// the refresh token's binding as `expected_jkt` when there is one. A token without a
    /// binding is refused ([`DpopError::TokenNotBound`]): a proof over a token that nothing ties
    /// to the key would prove nothing about the token.
    ///
    /// RFC 9449 §4.3 lets the checks run in any order. This order never reads an unverified
    /// payload (§4.3's claim presence, point 3, is checked after the signature, point 6), parses
    /// the `jwk` before using it (so point 7, no private key, comes before point 6), and records
    /// the `jti` last, so only a proof that passed everything else takes a replay-cache slot,
    /// and a proof refused for another reason does not burn its `jti`.
    pub fn verify(
        &self,
        proof: &str,
        htm: &Method,
        htu: &Htu,
        access_token: Option<&str>,
        expected_jkt: Option<&str>,
    ) -> Result<VerifiedProof, DpopError> {
        if access_token.is_some() && expected_jkt.is_none() {
            return Err(DpopError::TokenNotBound);
        }

        // Points 2 and 5: well-formed, within the size bound, `alg` allowed and not `none`;
        // `crit` refused.
        let compact = Compact::parse(proof, &self.algorithms).map_err(DpopError::from_jws)?;

        // Point 4: explicit typing (RFC 8725 §3.11), so another kind of JWT signed by the same
        // key cannot pass for a proof (RFC 9449 §11.5). Compared exactly: RFC 7515 §4.1.9 would
        // make `application/dpop+jwt` and other casings the same media type, but RFC 9449
        // specifies this spelling, every client here sends it, and one accepted form leaves
        // nothing to get wrong.
        match compact.header_str("typ") {
            Some(DPOP_JWT_TYPE) => {}
            other => {
                return Err(DpopError::WrongType {
                    found: other.map(str::to_owned),
                });
            }
        }

        // Point 7, then point 6: the key comes from the proof itself; `PublicJwk` refuses
        // private members and anything but P-256 and Ed25519.
        let jwk_value = compact.header().get("jwk").ok_or(DpopError::MissingJwk)?;
        let jwk = PublicJwk::from_value(jwk_value).map_err(DpopError::from_jwk)?;
        let claims = compact.verify(&jwk).map_err(DpopError::from_jws)?;

        // Point 3: every required claim present, with the right type.
        let jti = string_claim(&claims, "jti")?;
        let claimed_htm = string_claim(&claims, "htm")?;
        let claimed_htu = string_claim(&claims, "htu")?;
        let iat = match claims.get("iat") {
            None => return Err(DpopError::MissingClaim("iat")),
            // NumericDate may have a fraction (RFC 7519 §2); no client here sends one, and
            // refusing is simpler than deciding how to round.
            Some(value) => value.as_i64().ok_or(DpopError::InvalidClaim("iat"))?,
        };
        let ath = match access_token {
            Some(_) => Some(match claims.get("ath") {
                None => return Err(DpopError::AthMissing),
                Some(value) => value.as_str().ok_or(DpopError::InvalidClaim("ath"))?,
            }),
            // Without a token there is nothing to bind to; an `ath` is then ignored, as any
            // unknown claim would be.
            None => None,
        };

        // Point 8: methods are case-sensitive (RFC 9110 §9.1).
        if claimed_htm != htm.as_str() {
            return Err(DpopError::HtmMismatch {
                expected: htm.as_str().to_owned(),
                found: claimed_htm.to_owned(),
            });
        }

        // Point 9: compared after normalisation, query and fragment ignored.
        if !htu
            .matches_claim(claimed_htu)
            .map_err(DpopError::InvalidHtu)?
        {
            return Err(DpopError::HtuMismatch {
                expected: htu.as_str().to_owned(),
                found: claimed_htu.to_owned(),
            });
        }

        let now = self.clock.now();

        // Point 10: when this server hands out nonces, it hands them to everyone, so every
        // proof must carry a current one (RFC 9449 §11.3: no nonce-less proof once a nonce has
        // been provided).
        if let Some(source) = &self.nonces {
            let rejection = match claims.get("nonce") {
                None => Some(NonceRejection::Missing),
                Some(Value::String(nonce)) => source.check(nonce, now).err(),
                Some(_) => Some(NonceRejection::Invalid),
            };
            if let Some(reason) = rejection {
                return Err(DpopError::UseDpopNonce {
                    nonce: source.issue(now),
                    reason,
                });
            }
        }

        // Point 11: the acceptance window. Saturating arithmetic: `iat` is the client's number.
        if iat < now.saturating_sub(self.max_age) {
            return Err(DpopError::IatTooOld {
                iat,
                now,
                max_age: self.max_age,
            });
        }
        if iat > now.saturating_add(self.future_leeway) {
            return Err(DpopError::IatInFuture {
                iat,
                now,
                leeway: self.future_leeway,
            });
        }

        // Point 12: the proof covers this token, and the token is bound to this key.
        if let (Some(token), Some(ath)) = (access_token, ath)
            && ath != access_token_hash(token)
        {
            return Err(DpopError::AthMismatch);
        }
        let jkt = jwk.thumbprint();
        if let Some(expected) = expected_jkt
            && expected != jkt
        {
            return Err(DpopError::JktMismatch {
                expected: expected.to_owned(),
                found: jkt,
            });
        }

        // RFC 9449 §11.1: single use within the window. Last, and atomic, as explained above.
        self.replay.check_and_insert(
            &jkt,
            htu.as_str(),
            jti,
            iat.saturating_add(self.max_age),
            now,
        )?;

        Ok(VerifiedProof {
            jkt,
            jti: jti.to_owned(),
            iat,
            jwk,
        })
    }
}

/// A claim that must be a non-empty string.
fn string_claim<'c>(
    claims: &'c Map<String, Value>,
    name: &'static str,
) -> Result<&'c str, DpopError> {
    match claims.get(name) {
        None => Err(DpopError::MissingClaim(name)),
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(_) => Err(DpopError::InvalidClaim(name)),
    }
}

impl fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopVerifier")
            .field("algorithms", &self.algorithms)
            .field("max_age", &self.max_age)
            .field("future_leeway", &self.future_leeway)
            .field("replay", &self.replay)
            .field("nonces", &self.nonces.is_some())
            .finish_non_exhaustive()
    }
}
