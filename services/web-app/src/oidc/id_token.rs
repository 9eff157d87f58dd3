//! ID token validation (OpenID Connect Core §3.1.3.7, design step 8).
//!
//! The checks are `openidconnect`'s verifier's: signature with an allowed asymmetric algorithm,
//! `iss` equal to the issuer, `aud` naming this client (and no one it does not trust), `exp` on
//! the injected clock, `nonce`. Two the library leaves to the caller are made here: `azp` when
//! several audiences are named (§3.1.3.7 items 4–5) and `at_hash` (§3.1.3.8).
//!
//! The key comes from the project's JWKS cache, not from the set the library fetched at
//! discovery: the cache refetches on an unknown `kid` (rate limited, on the injected clock),
//! so a key rotation at the IAM does not break logins until a restart. The verifier is then
//! given exactly that one key.

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, IssuerUrl, Nonce};
use tokens::jws::Compact;
use tokens::{Algorithm, JwksCache};

/// How far in the future an ID token's `iat` may be: the clocks of the IAM and this app may
/// disagree a little, never by minutes.
const IAT_LEEWAY: i64 = 60;

/// Why an ID token was refused. The texts name the check, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token is not a compact JWS with an allowed algorithm: {0}")]
    Malformed(String),
    #[error("the ID token has no `kid`")]
    MissingKid,
    #[error("the ID token's signing key is not available: {0}")]
    Key(String),
    #[error("the ID token was refused: {0}")]
    Claims(String),
    #[error("the ID token names several audiences but not this client as `azp`")]
    Azp,
    #[error("the ID token's `at_hash` does not match the access token")]
    AtHash,
    #[error("the refreshed ID token is for another customer")]
    SubjectChanged,
}

/// Which `nonce` the token must carry.
#[derive(Debug, Clone, Copy)]
pub enum NonceRule<'a> {
    /// At login: exactly the one this login sent (§3.1.3.7 item 11).
    Exactly(&'a str),
    /// After a refresh: none, or the login's again (§12.2).
    AbsentOrSame(&'a str),
}

/// What the app keeps of a validated ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// `amr` (OIDC Core §2): how the IAM says it authenticated the customer (`pwd`, `otp`).
    /// Shown on the timeline as the IAM's signed account of steps 3 and 4, which the web app
    /// cannot watch; not a decision input (the IAM's policy requires both factors).
    pub amr: Vec<String>,
}

/// Everything a verification needs that does not change per token.
#[derive(Debug)]
pub struct IdTokenRules<'a> {
    pub client_id: &'a str,
    pub issuer: &'a IssuerUrl,
    pub keys: &'a JwksCache,
    pub now: i64,
}

/// The algorithms an ID token may be signed with: the asymmetric ones this system uses. HMAC
/// (which would turn the client secret into a signing key) and `none` never are.
const ALLOWED: [(Algorithm, CoreJwsSigningAlgorithm); 2] = [
    (Algorithm::Es256, CoreJwsSigningAlgorithm::EcdsaP256Sha256),
    (Algorithm::EdDsa, CoreJwsSigningAlgorithm::EdDsa),
];

/// Validates `id_token`, issued together with `access_token`.
pub async fn verify(
    rules: &IdTokenRules<'_>,
    id_token: &CoreIdToken,
    access_token: &AccessToken,
    nonce: NonceRule<'_>,
) -> Result<Identity, IdTokenError> {
    let raw = id_token.to_string();
    let algorithms = ALLOWED.map(|(ours, _)| ours);
    let compact = Compact::parse(&raw, &algorithms)
        .map_err(|error| IdTokenError::Malformed(error.to_string()))?;
    let kid = compact.header_str("kid").ok_or(IdTokenError::MissingKid)?;
    let key = rules
        .keys
        .key(kid)
        .await
        .map_err(|error| IdTokenError::Key(error.to_string()))?;
    let jwk: CoreJsonWebKey = serde_json::from_value(key.to_value())
        .map_err(|error| IdTokenError::Key(error.to_string()))?;

    let now = rules.now;
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(rules.client_id.to_owned()),
        rules.issuer.clone(),
        CoreJsonWebKeySet::new(vec![jwk.clone()]),
    )
    .set_allowed_algs(ALLOWED.map(|(_, theirs)| theirs))
    .set_time_fn(move || datetime(now))
    .set_issue_time_verifier_fn(move |iat: DateTime<Utc>| {
        if iat.timestamp() > now + IAT_LEEWAY {
            Err(format!("issued in the future ({iat})"))
        } else {
            Ok(())
        }
    });
    let claims = match nonce {
        NonceRule::Exactly(expected) => {
            id_token.claims(&verifier, &Nonce::new(expected.to_owned()))
        }
        NonceRule::AbsentOrSame(expected) => {
            id_token.claims(&verifier, |found: Option<&Nonce>| match found {
                Some(found) if found.secret() != expected => {
                    Err("the nonce is not the login's".to_owned())
                }
                _ => Ok(()),
            })
        }
    }
    .map_err(|error| IdTokenError::Claims(claims_error(&error)))?;

    let audiences = claims.audiences();
    match claims.authorized_party() {
        Some(azp) if azp.as_str() != rules.client_id => return Err(IdTokenError::Azp),
        None if audiences.len() > 1 => return Err(IdTokenError::Azp),
        _ => {}
    }
    if let Some(claimed) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(|error| IdTokenError::Claims(error.to_string()))?;
        let expected = AccessTokenHash::from_token(access_token, alg, &jwk)
            .map_err(|error| IdTokenError::Claims(error.to_string()))?;
        if &expected != claimed {
            return Err(IdTokenError::AtHash);
        }
    }
    Ok(Identity {
        subject: claims.subject().as_str().to_owned(),
        username: claims
            .preferred_username()
            .map(|name| name.as_str().to_owned()),
        display_name: claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.as_str().to_owned()),
        amr: claims
            .auth_method_refs()
            .map(|methods| methods.iter().map(|m| m.as_str().to_owned()).collect())
            .unwrap_or_default(),
    })
}

/// The library's message, with its cause (the signature error names only "Signature
/// verification failed" otherwise).
fn claims_error(error: &openidconnect::ClaimsVerificationError) -> String {
    crate::oidc::transport::error_chain(error)
}

fn datetime(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use serde_json::{Value, json};
    use tokens::jwks::{FetchError, FetchedJwks, JwksFetcher};
    use tokens::{Jwks, ManualClock, SigningKey};

    use super::*;

    const ISSUER: &str = "https://iam.example";
    const CLIENT: &str = "web-app";
    const NOW: i64 = 1_800_000_000;
    const ACCESS: &str = "the-access-token";

    #[derive(Debug)]
    struct Fixed(Vec<u8>);

    impl JwksFetcher for Fixed {
        fn fetch(
            &self,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<FetchedJwks, FetchError>> + Send + '_>,
        > {
            Box::pin(async move {
                Ok(FetchedJwks {
                    body: self.0.clone(),
                    max_age: None,
                })
            })
        }
    }

    fn cache(keys: &[&SigningKey]) -> JwksCache {
        let jwks = Jwks::new(keys.iter().map(|k| k.public_jwk().clone()).collect());
        JwksCache::builder(Fixed(jwks.to_json().to_string().into_bytes()))
            .clock(ManualClock::new(NOW))
            .build()
            .unwrap()
    }

    fn claims(key: &SigningKey, extra: Value) -> Value {
        let mut claims = json!({
            "iss": ISSUER, "sub": "demo-user-alice", "aud": CLIENT,
            "iat": NOW - 5, "exp": NOW + 300, "nonce": "the-nonce",
            "at_hash": tokens::claims::at_hash(key.algorithm(), ACCESS),
            "preferred_username": "alice", "name": "Alice Example",
        });
        for (name, value) in extra.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims
    }

    fn signed(key: &SigningKey, extra: Value) -> CoreIdToken {
        let token = tokens::jws::sign(key, "JWT", &claims(key, extra), None).unwrap();
        CoreIdToken::from_str(&token).unwrap()
    }

    async fn check(
        keys: &JwksCache,
        token: &CoreIdToken,
        nonce: NonceRule<'_>,
    ) -> Result<Identity, IdTokenError> {
        let issuer = IssuerUrl::new(ISSUER.to_owned()).unwrap();
        let rules = IdTokenRules {
            client_id: CLIENT,
            issuer: &issuer,
            keys,
            now: NOW,
        };
        verify(&rules, token, &AccessToken::new(ACCESS.to_owned()), nonce).await
    }

    #[tokio::test]
    async fn a_good_token_yields_the_customer() {
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let key = SigningKey::generate(alg).unwrap();
            let identity = check(
                &cache(&[&key]),
                &signed(&key, json!({"amr": ["pwd", "otp"]})),
                NonceRule::Exactly("the-nonce"),
            )
            .await
            .unwrap();
            assert_eq!(
                identity,
                Identity {
                    subject: "demo-user-alice".into(),
                    username: Some("alice".into()),
                    display_name: Some("Alice Example".into()),
                    amr: vec!["pwd".into(), "otp".into()],
                },
                "{alg:?}"
            );
        }
    }

    #[tokio::test]
    async fn each_claim_check_refuses() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let keys = cache(&[&key]);
        for (extra, why) in [
            (json!({"iss": "https://other.example"}), "issuer"),
            (
                json!({"iss": "https://iam.example/"}),
                "issuer with a trailing slash",
            ),
            (json!({"aud": "other-client"}), "audience"),
            (
                json!({"aud": ["web-app", "other-client"]}),
                "an untrusted second audience",
            ),
            (json!({"exp": NOW}), "expired"),
            (json!({"iat": NOW + IAT_LEEWAY + 1}), "issued in the future"),
            (json!({"nonce": "another-nonce"}), "nonce"),
            (json!({"nonce": null}), "missing nonce"),
        ] {
            let outcome = check(&keys, &signed(&key, extra), NonceRule::Exactly("the-nonce")).await;
            assert!(
                matches!(outcome, Err(IdTokenError::Claims(_))),
                "{why}: {outcome:?}"
            );
        }
        let outcome = check(
            &keys,
            &signed(&key, json!({"azp": "other-client"})),
            NonceRule::Exactly("the-nonce"),
        )
        .await;
        assert_eq!(outcome, Err(IdTokenError::Azp));
        let outcome = check(
            &keys,
            &signed(&key, json!({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"})),
            NonceRule::Exactly("the-nonce"),
        )
        .await;
        assert_eq!(outcome, Err(IdTokenError::AtHash));
    }

    #[tokio::test]
    async fn a_refreshed_token_may_leave_the_nonce_out_but_not_change_it() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let keys = cache(&[&key]);
        let rule = NonceRule::AbsentOrSame("the-nonce");
        assert!(
            check(&keys, &signed(&key, json!({"nonce": null})), rule)
                .await
                .is_ok()
        );
        assert!(check(&keys, &signed(&key, json!({})), rule).await.is_ok());
        let outcome = check(&keys, &signed(&key, json!({"nonce": "x"})), rule).await;
        assert!(
            matches!(outcome, Err(IdTokenError::Claims(_))),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn signatures_and_keys_are_checked() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let keys = cache(&[&key]);
        let rule = NonceRule::Exactly("the-nonce");
        // Another key, not published: its `kid` is unknown even after the one refetch.
        let stranger = SigningKey::generate(Algorithm::Es256).unwrap();
        let outcome = check(&keys, &signed(&stranger, json!({})), rule).await;
        assert!(matches!(outcome, Err(IdTokenError::Key(_))), "{outcome:?}");
        // The published `kid` on a signature by another key.
        let good = tokens::jws::sign(&key, "JWT", &claims(&key, json!({})), None).unwrap();
        let forged = tokens::jws::sign(&stranger, "JWT", &claims(&key, json!({})), None).unwrap();
        let (head, _) = good.rsplit_once('.').unwrap();
        let (_, signature) = forged.rsplit_once('.').unwrap();
        let spliced = CoreIdToken::from_str(&format!("{head}.{signature}")).unwrap();
        let outcome = check(&keys, &spliced, rule).await;
        assert!(
            matches!(outcome, Err(IdTokenError::Claims(_))),
            "{outcome:?}"
        );
        // HS256 (the client secret as a key) and `none` are never accepted.
        for alg in ["HS256", "none"] {
            let header = tokens::b64::encode(
                json!({"alg": alg, "typ": "JWT", "kid": key.kid()}).to_string(),
            );
            let payload = tokens::b64::encode(claims(&key, json!({})).to_string());
            let token = CoreIdToken::from_str(&format!("{header}.{payload}.c2ln")).unwrap();
            let outcome = check(&keys, &token, rule).await;
            assert!(
                matches!(outcome, Err(IdTokenError::Malformed(_))),
                "{alg}: {outcome:?}"
            );
        }
    }
}
