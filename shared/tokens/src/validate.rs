//! The strict token validator.
//!
//! A [`Validator`] is built once per kind of token a service accepts, stating everything it
//! expects: issuer, audience, `typ`, algorithms, required claims, allowed clock skew, clock and
//! where the keys come from. [`Validator::validate`] then runs every check in a fixed order,
//! cheapest first, and returns the typed claims only when all of them pass:
//!
//! 1. size bound, three segments, strict base64url, header JSON with each member named once
//!    ([`Compact::parse`]);
//! 2. `alg` on the allow-list (`none` and HMAC never are), no `crit`;
//! 3. `typ`, exactly (so an ID token or a transaction token is not an access token);
//! 4. the key, chosen by `kid` only: `jku`, `x5u`, `x5c` and an embedded `jwk` are ignored,
//!    never fetched, never trusted;
//! 5. the signature, with the key's own algorithm;
//! 6. `iss` exactly, `aud` containing the audience, `exp` in the future, `nbf` and `iat` not in
//!    the future (each within the leeway), required claims present, required scopes granted;
//! 7. the payload read into the caller's claims type.

mod error;
mod registered;
mod typ;

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::ValidationError;
pub(crate) use error::shown;
use registered::{Registered, Rules};
use typ::ExpectedTyp;

use crate::jws::Compact;
use crate::{Algorithm, KeySource, PublicJwk, SharedClock, SystemClock};

/// The clock skew allowed when none is configured. Small: every program here keeps its clock
/// synchronised, and the leeway is time an expired token keeps working.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The largest leeway a validator accepts. RFC 7519 §4.1.4 speaks of "a few minutes" at most;
/// more would quietly lengthen every token's life. Issuers keep retired keys published this
/// much longer than their tokens live ([`crate::KeySet`]).
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// At most this many required claims (one bit each while reading the payload).
const MAX_REQUIRED_CLAIMS: usize = 64;

/// Why a validator could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("the validator needs {0}")]
    Missing(&'static str),
    #[error("at least one algorithm must be allowed")]
    NoAlgorithms,
    #[error("`{0}` is not a `typ` that can be compared (a media type such as `at+jwt`)")]
    InvalidTyp(String),
    #[error("the leeway {0:?} is over the {MAX_LEEWAY:?} maximum")]
    LeewayTooLarge(Duration),
    #[error("required claim and scope names must not be empty")]
    EmptyName,
    #[error("at most {MAX_REQUIRED_CLAIMS} claims can be required")]
    TooManyRequiredClaims,
}

/// Validates one kind of token. Cheap to clone and share between tasks.
#[derive(Debug, Clone)]
pub struct Validator(Arc<Config>);

#[derive(Debug)]
struct Config {
    issuer: Box<str>,
    audience: Box<str>,
    typ: ExpectedTyp,
    algorithms: Box<[Algorithm]>,
    required: Box<[Box<str>]>,
    scopes: Box<[Box<str>]>,
    leeway: i64,
    max_lifetime: Option<i64>,
    clock: SharedClock,
    keys: KeySource,
}

/// A token that passed every check, with its claims.
///
/// Handlers take this, not a raw header value, so the type system records that validation
/// happened.
#[derive(Debug, Clone)]
pub struct Verified<C> {
    claims: C,
    key: Arc<PublicJwk>,
    algorithm: Algorithm,
    expires_at: i64,
}

impl<C> Verified<C> {
    /// The claims.
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// The claims, taken out.
    pub fn into_claims(self) -> C {
        self.claims
    }

    /// The algorithm the token was signed with (an ID token's `at_hash` depends on it).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` of the key that verified the token.
    pub fn kid(&self) -> &str {
        self.key.kid().unwrap_or_default()
    }

    /// The key that verified the token.
    pub fn key(&self) -> &PublicJwk {
        &self.key
    }

    /// The token's `exp`, for caches that must not outlive it.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

impl Validator {
    /// Starts describing what this validator expects.
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::default()
    }

    /// Runs every check on `token` and reads its claims as `C`.
    pub async fn validate<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<C>, ValidationError> {
        let config = &*self.0;
        let compact = Compact::parse(token, &config.algorithms)?;
        config.check_typ(compact.header().get("typ"))?;
        let kid = compact
            .header_str("kid")
            .ok_or(ValidationError::MissingKid)?;
        let key = config.keys.key(kid).await?;
        let algorithm = compact.algorithm();
        let payload = compact.verify_raw(&key)?;

        let now = config.clock.now();
        let registered = registered::read(
            &payload,
            &Rules {
                audience: &config.audience,
                required: &config.required,
                read_scope: !config.scopes.is_empty(),
            },
        )?;
        let expires_at = config.check_claims(&registered, now)?;
        let claims = serde_json::from_slice(&payload)
            .map_err(|error| ValidationError::ClaimsShape(shape_error(&error)))?;
        Ok(Verified {
            claims,
            key,
            algorithm,
            expires_at,
        })
    }

    /// The issuer this validator accepts.
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The audience this validator requires.
    pub fn audience(&self) -> &str {
        &self.0.audience
    }
}

impl Config {
    fn check_typ(&self, typ: Option<&Value>) -> Result<(), ValidationError> {
        let found = match typ {
            None => None,
            Some(Value::String(typ)) => Some(typ.as_str()),
            // A non-string `typ` is not a media type of any kind.
            Some(other) => {
                return Err(ValidationError::WrongTyp {
                    expected: self.typ.describe(),
                    found: Some(shown(&other.to_string())),
                });
            }
        };
        if self.typ.accepts(found) {
            Ok(())
        } else {
            Err(ValidationError::WrongTyp {
                expected: self.typ.describe(),
                found: found.map(shown),
            })
        }
    }

    /// The claim checks, in a fixed order; returns `exp`.
    fn check_claims(&self, claims: &Registered<'_>, now: i64) -> Result<i64, ValidationError> {
        match claims.iss.as_deref() {
            None => return Err(ValidationError::MissingClaim("iss".into())),
            Some(iss) if iss != &*self.issuer => {
                return Err(ValidationError::WrongIssuer {
                    expected: self.issuer.to_string(),
                    found: shown(iss),
                });
            }
            Some(_) => {}
        }
        match claims.aud {
            None => return Err(ValidationError::MissingClaim("aud".into())),
            Some(false) => {
                return Err(ValidationError::WrongAudience {
                    expected: self.audience.to_string(),
                });
            }
            Some(true) => {}
        }
        // RFC 7519 makes `exp` optional; a token that never expires is never acceptable here.
        let exp = claims
            .exp
            .ok_or_else(|| ValidationError::MissingClaim("exp".into()))?;
        // RFC 7519 §4.1.4: the current time must be *before* `exp`.
        if now >= exp.saturating_add(self.leeway) {
            return Err(ValidationError::Expired { exp, now });
        }
        if let Some(nbf) = claims.nbf
            && nbf > now.saturating_add(self.leeway)
        {
            return Err(ValidationError::NotYetValid { nbf, now });
        }
        // RFC 7519 §4.1.6 sets no rule for `iat`; one from the future means a wrong clock or a
        // forged lifetime, and is refused beyond the same leeway.
        if let Some(iat) = claims.iat
            && iat > now.saturating_add(self.leeway)
        {
            return Err(ValidationError::IssuedInFuture { iat, now });
        }
        if let Some(max) = self.max_lifetime
            && exp > now.saturating_add(max).saturating_add(self.leeway)
        {
            return Err(ValidationError::LifetimeTooLong {
                exp,
                max_seconds: max,
            });
        }
        for (bit, name) in self.required.iter().enumerate() {
            if claims.required_seen & (1 << bit) == 0 {
                return Err(ValidationError::MissingClaim(name.to_string()));
            }
        }
        if !self.scopes.is_empty() {
            let granted = claims
                .scope
                .as_deref()
                .ok_or_else(|| ValidationError::MissingClaim("scope".into()))?;
            // Exact token comparison (RFC 6749 §3.3). A malformed list (doubled spaces) yields
            // empty tokens, which match no required scope since those are never empty.
            if let Some(missing) = self
                .scopes
                .iter()
                .find(|scope| !granted.split(' ').any(|token| token == &***scope))
            {
                return Err(ValidationError::InsufficientScope(missing.to_string()));
            }
        }
        Ok(exp)
    }
}

/// A serde error, bounded in length. Its text names the field and the expected type, and may
/// quote a claim value; claims are not secrets, but the message still stays short.
fn shape_error(error: &serde_json::Error) -> String {
    const MAX_CHARS: usize = 160;
    let text = error.to_string();
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

/// Describes a [`Validator`]. Issuer, audience, `typ`, algorithms and keys have no default:
/// a validator that was not told what to expect does not get built.
#[derive(Debug)]
pub struct ValidatorBuilder {
    issuer: Option<String>,
    audience: Option<String>,
    typ: Option<Result<ExpectedTyp, String>>,
    algorithms: Vec<Algorithm>,
    required: Vec<String>,
    scopes: Vec<String>,
    leeway: Duration,
    max_lifetime: Option<Duration>,
    clock: Option<SharedClock>,
    keys: Option<KeySource>,
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            typ: None,
            algorithms: Vec::new(),
            required: Vec::new(),
            scopes: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: None,
            clock: None,
            keys: None,
        }
    }
}

impl ValidatorBuilder {
    /// The exact `iss` (compared byte for byte, RFC 7519 §4.1.1).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The audience that `aud` must contain: this service's own name.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The explicit `typ` required, e.g. `at+jwt` or `txntoken+jwt` (compared as RFC 7515
    /// §4.1.9 says: case-insensitively, `application/` optional).
    pub fn typ(mut self, typ: &str) -> Self {
        self.typ = Some(ExpectedTyp::explicit(typ).ok_or_else(|| typ.to_owned()));
        self
    }

    /// For ID tokens, which OpenID Connect leaves untyped: `typ` must be `JWT` or absent, so
    /// explicitly typed tokens (access, transaction, DPoP) are refused.
    pub fn id_token_typ(mut self) -> Self {
        self.typ = Some(Ok(ExpectedTyp::JwtOrAbsent));
        self
    }

    /// The algorithms accepted. `none` and HMAC cannot be named.
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// Claims that must be present (with a non-null value) besides `iss`, `aud` and `exp`,
    /// which always are.
    pub fn require(mut self, claims: &[&str]) -> Self {
        self.required = claims.iter().map(|&c| c.to_owned()).collect();
        self
    }

    /// Scopes that `scope` must grant; a token without them fails with
    /// [`ValidationError::InsufficientScope`] (`insufficient_scope`, HTTP 403).
    pub fn require_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|&s| s.to_owned()).collect();
        self
    }

    /// Allowed clock skew for `exp`, `nbf` and `iat`; whole seconds count. Defaults to
    /// [`DEFAULT_LEEWAY`], at most [`MAX_LEEWAY`].
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Refuses tokens valid for longer than this from now (plus leeway), whatever their issuer
    /// wrote: a bound on the damage of an issuer misconfigured to mint long-lived tokens.
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = Some(max);
        self
    }

    /// The clock; the system clock by default.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Where verification keys come from: a static [`crate::Jwks`] or a [`crate::JwksCache`].
    pub fn keys(mut self, keys: impl Into<KeySource>) -> Self {
        self.keys = Some(keys.into());
        self
    }

    pub fn build(self) -> Result<Validator, BuildError> {
        let issuer = self.issuer.ok_or(BuildError::Missing("an issuer"))?;
        let audience = self.audience.ok_or(BuildError::Missing("an audience"))?;
        let typ = self
            .typ
            .ok_or(BuildError::Missing("a `typ`"))?
            .map_err(BuildError::InvalidTyp)?;
        let keys = self.keys.ok_or(BuildError::Missing("a key source"))?;
        if self.algorithms.is_empty() {
            return Err(BuildError::NoAlgorithms);
        }
        if issuer.is_empty() || audience.is_empty() {
            return Err(BuildError::EmptyName);
        }
        if self.leeway > MAX_LEEWAY {
            return Err(BuildError::LeewayTooLarge(self.leeway));
        }
        let mut required = self.required;
        required.sort();
        required.dedup();
        if required.len() > MAX_REQUIRED_CLAIMS {
            return Err(BuildError::TooManyRequiredClaims);
        }
        if required.iter().chain(&self.scopes).any(String::is_empty) {
            return Err(BuildError::EmptyName);
        }
        let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Ok(Validator(Arc::new(Config {
            issuer: issuer.into(),
            audience: audience.into(),
            typ,
            algorithms: self.algorithms.into(),
            required: required.into_iter().map(String::into_boxed_str).collect(),
            scopes: self
                .scopes
                .into_iter()
                .map(String::into_boxed_str)
                .collect(),
            leeway: seconds(self.leeway),
            max_lifetime: self.max_lifetime.map(seconds),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            keys,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Jwks, ManualClock, SigningKey, jws};
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn setup() -> (SigningKey, ValidatorBuilder) {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let builder = Validator::builder()
            .issuer("https://iam.example")
            .audience("agent-b")
            .typ("at+jwt")
            .algorithms(&[Algorithm::Es256])
            .leeway(Duration::from_secs(30))
            .clock(ManualClock::new(NOW))
            .keys(Jwks::new(vec![key.public_jwk().clone()]));
        (key, builder)
    }

    fn claims() -> Value {
        json!({"iss": "https://iam.example", "aud": "agent-b", "exp": NOW + 300, "iat": NOW,
               "jti": "t1", "scope": "agent:invoke chatbot:access"})
    }

    async fn check(
        builder: ValidatorBuilder,
        key: &SigningKey,
        claims: Value,
    ) -> Result<Value, ValidationError> {
        let token = jws::sign(key, "at+jwt", &claims, None).unwrap();
        let validator = builder.build().unwrap();
        validator
            .validate::<Value>(&token)
            .await
            .map(Verified::into_claims)
    }

    #[tokio::test]
    async fn leeway_edges_are_exact() {
        let (key, builder) = setup();
        let v = builder.build().unwrap();
        let sign = |patch: Value| {
            let mut c = claims();
            c.as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            jws::sign(&key, "at+jwt", &c, None).unwrap()
        };
        // exp + leeway is the first instant the token is refused.
        assert!(
            v.validate::<Value>(&sign(json!({"exp": NOW - 29})))
                .await
                .is_ok()
        );
        assert_eq!(
            v.validate::<Value>(&sign(json!({"exp": NOW - 30})))
                .await
                .unwrap_err(),
            ValidationError::Expired {
                exp: NOW - 30,
                now: NOW
            }
        );
        assert!(
            v.validate::<Value>(&sign(json!({"nbf": NOW + 30})))
                .await
                .is_ok()
        );
        assert_eq!(
            v.validate::<Value>(&sign(json!({"nbf": NOW + 31})))
                .await
                .unwrap_err(),
            ValidationError::NotYetValid {
                nbf: NOW + 31,
                now: NOW
            }
        );
        // A fractional `exp` rounds down, a fractional `nbf` up.
        assert_eq!(
            v.validate::<Value>(&sign(json!({"exp": (NOW - 29) as f64 - 0.5})))
                .await
                .unwrap_err(),
            ValidationError::Expired {
                exp: NOW - 30,
                now: NOW
            }
        );
        assert_eq!(
            v.validate::<Value>(&sign(json!({"nbf": (NOW + 30) as f64 + 0.25})))
                .await
                .unwrap_err(),
            ValidationError::NotYetValid {
                nbf: NOW + 31,
                now: NOW
            }
        );
    }

    #[tokio::test]
    async fn required_claims_scopes_and_lifetime() {
        let (key, builder) = setup();
        let builder = builder
            .require(&["jti", "iat", "sub"])
            .require_scopes(&["agent:invoke"])
            .max_lifetime(Duration::from_secs(900));
        let err = check(builder, &key, claims()).await.unwrap_err();
        assert_eq!(err, ValidationError::MissingClaim("sub".into()));

        let (key, builder) = setup();
        let builder = builder.require_scopes(&["agent:invoke", "admin"]);
        let err = check(builder, &key, claims()).await.unwrap_err();
        assert_eq!(err, ValidationError::InsufficientScope("admin".into()));

        let (key, builder) = setup();
        let builder = builder.require_scopes(&["agent"]);
        let err = check(builder, &key, claims()).await.unwrap_err();
        assert_eq!(err, ValidationError::InsufficientScope("agent".into()));

        let (key, builder) = setup();
        let builder = builder.max_lifetime(Duration::from_secs(60));
        let err = check(builder, &key, claims()).await.unwrap_err();
        assert_eq!(
            err,
            ValidationError::LifetimeTooLong {
                exp: NOW + 300,
                max_seconds: 60
            }
        );
    }

    #[test]
    fn a_validator_must_be_told_what_to_expect() {
        let (_, builder) = setup();
        assert_eq!(
            builder.typ("text/plain").build().unwrap_err(),
            BuildError::InvalidTyp("text/plain".into())
        );
        let (_, builder) = setup();
        assert_eq!(
            builder
                .leeway(Duration::from_secs(301))
                .build()
                .unwrap_err(),
            BuildError::LeewayTooLarge(Duration::from_secs(301))
        );
        let (_, builder) = setup();
        assert_eq!(
            builder.algorithms(&[]).build().unwrap_err(),
            BuildError::NoAlgorithms
        );
        assert_eq!(
            Validator::builder().audience("a").build().unwrap_err(),
            BuildError::Missing("an issuer")
        );
        let (_, builder) = setup();
        assert_eq!(
            builder.require(&[""]).build().unwrap_err(),
            BuildError::EmptyName
        );
        let names: Vec<String> = (0..65).map(|i| format!("c{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let (_, builder) = setup();
        assert_eq!(
            builder.require(&names).build().unwrap_err(),
            BuildError::TooManyRequiredClaims
        );
    }
}
