//! Every rejection the design names, each with its exact error.

use ring::hmac;
use serde_json::{Value, json};
use tokens::jws::{JwsError, MAX_TOKEN_BYTES, Segment};
use tokens::{Algorithm, Jwks, SigningKey, ValidationError, b64};

use crate::support::*;

fn keys(keys: &[&SigningKey]) -> Jwks {
    Jwks::new(keys.iter().map(|k| k.public_jwk().clone()).collect())
}

async fn rejection(keys_of: &[&SigningKey], token: &str) -> ValidationError {
    static_validator(keys(keys_of))
        .validate::<Value>(token)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_good_token_passes() {
    let key = es256();
    let token = access_token(&key, &access_claims());
    let verified = static_validator(keys(&[&key]))
        .validate::<Value>(&token)
        .await
        .unwrap();
    assert_eq!(verified.kid(), key.kid());
    assert_eq!(verified.claims()["sub"], "alice");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let key = es256();
    for none in ["none", "None", "NONE"] {
        let unsigned = format!(
            "{}.{}.",
            b64::encode(json!({"alg": none, "typ": "at+jwt", "kid": key.kid()}).to_string()),
            b64::encode(access_claims().to_string())
        );
        assert_eq!(
            rejection(&[&key], &unsigned).await,
            ValidationError::Jws(JwsError::AlgNone)
        );
    }
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_is_refused() {
    // The classic downgrade: the attacker takes the published public key and uses its bytes as
    // an HMAC secret, hoping the verifier feeds "the key" to whatever `alg` says.
    let key = es256();
    let jwk = key.public_jwk().to_value();
    let point = [
        &[4u8][..],
        &b64::decode(jwk["x"].as_str().unwrap()).unwrap(),
        &b64::decode(jwk["y"].as_str().unwrap()).unwrap(),
    ]
    .concat();
    for secret in [point, jwk.to_string().into_bytes()] {
        let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": key.kid()});
        let input = format!(
            "{}.{}",
            b64::encode(header.to_string()),
            b64::encode(access_claims().to_string())
        );
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        let forged = format!("{input}.{}", b64::encode(tag.as_ref()));
        assert_eq!(
            rejection(&[&key], &forged).await,
            ValidationError::Jws(JwsError::AlgorithmNotAllowed("HS256".into()))
        );
    }
}

#[tokio::test]
async fn algorithms_off_the_allow_list_are_refused() {
    // A genuine EdDSA token from a published key, to a validator that allows only ES256.
    let ed = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let token = access_token(&ed, &access_claims());
    assert_eq!(
        rejection(&[&ed], &token).await,
        ValidationError::Jws(JwsError::AlgorithmNotAllowed("EdDSA".into()))
    );
    let key = es256();
    let mut rs256 = header(&key, "at+jwt");
    rs256["alg"] = "RS256".into();
    assert_eq!(
        rejection(&[&key], &sign_raw(&key, &rs256, &access_claims())).await,
        ValidationError::Jws(JwsError::AlgorithmNotAllowed("RS256".into()))
    );
}

#[tokio::test]
async fn a_header_alg_that_is_not_the_keys_is_refused() {
    // Both algorithms allowed; the token says ES256 but names an Ed25519 key.
    let es = es256();
    let ed = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let validator = access_validator()
        .algorithms(&[Algorithm::Es256, Algorithm::EdDsa])
        .clock(tokens::ManualClock::new(NOW))
        .keys(keys(&[&es, &ed]))
        .build()
        .unwrap();
    let mut lying = header(&es, "at+jwt");
    lying["kid"] = ed.kid().into();
    let token = sign_raw(&es, &lying, &access_claims());
    assert_eq!(
        validator.validate::<Value>(&token).await.unwrap_err(),
        ValidationError::Jws(JwsError::KeyAlgorithmMismatch {
            key: Algorithm::EdDsa,
            token: Algorithm::Es256
        })
    );
}

#[tokio::test]
async fn unknown_and_missing_kids_are_refused() {
    // The cache's one-refetch rule is tested in `jwks_cache`; a static set has nothing to fetch.
    let key = es256();
    let stranger = es256();
    assert_eq!(
        rejection(&[&key], &access_token(&stranger, &access_claims())).await,
        ValidationError::UnknownKid(stranger.kid().to_owned())
    );
    let no_kid = json!({"alg": "ES256", "typ": "at+jwt"});
    assert_eq!(
        rejection(&[&key], &sign_raw(&key, &no_kid, &access_claims())).await,
        ValidationError::MissingKid
    );
    let numeric_kid = json!({"alg": "ES256", "typ": "at+jwt", "kid": 7});
    assert_eq!(
        rejection(&[&key], &sign_raw(&key, &numeric_kid, &access_claims())).await,
        ValidationError::MissingKid
    );
}

#[tokio::test]
async fn time_claims_are_enforced_with_the_leeway() {
    let key = es256();
    let cases = [
        (
            json!({"exp": NOW - LEEWAY}),
            ValidationError::Expired {
                exp: NOW - LEEWAY,
                now: NOW,
            },
        ),
        (
            json!({"nbf": NOW + LEEWAY + 1}),
            ValidationError::NotYetValid {
                nbf: NOW + LEEWAY + 1,
                now: NOW,
            },
        ),
        (
            json!({"iat": NOW + LEEWAY + 1}),
            ValidationError::IssuedInFuture {
                iat: NOW + LEEWAY + 1,
                now: NOW,
            },
        ),
        (
            json!({"exp": null}),
            ValidationError::MissingClaim("exp".into()),
        ),
        (
            json!({"exp": (NOW + 600).to_string()}),
            ValidationError::NotANumericDate("exp"),
        ),
        (
            json!({"nbf": true}),
            ValidationError::NotANumericDate("nbf"),
        ),
        (
            json!({"iat": [NOW]}),
            ValidationError::NotANumericDate("iat"),
        ),
    ];
    for (patch, expected) in cases {
        let token = access_token(&key, &access_claims_with(patch.clone()));
        assert_eq!(rejection(&[&key], &token).await, expected, "{patch}");
    }
    // Within the leeway, all three pass.
    let edge = json!({"exp": NOW - LEEWAY + 1, "nbf": NOW + LEEWAY, "iat": NOW + LEEWAY});
    let token = access_token(&key, &access_claims_with(edge));
    assert!(
        static_validator(keys(&[&key]))
            .validate::<Value>(&token)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn issuer_and_audience_must_match_exactly() {
    let key = es256();
    let cases = [
        (
            json!({"iss": "https://iam.example/"}),
            ValidationError::WrongIssuer {
                expected: ISSUER.into(),
                found: "https://iam.example/".into(),
            },
        ),
        (
            json!({"iss": null}),
            ValidationError::MissingClaim("iss".into()),
        ),
        (
            json!({"aud": "agent-a"}),
            ValidationError::WrongAudience {
                expected: AUDIENCE.into(),
            },
        ),
        (
            json!({"aud": ["agent-a", "Agent-B"]}),
            ValidationError::WrongAudience {
                expected: AUDIENCE.into(),
            },
        ),
        (
            json!({"aud": null}),
            ValidationError::MissingClaim("aud".into()),
        ),
        (
            json!({"aud": {"name": AUDIENCE}}),
            ValidationError::InvalidClaim {
                claim: "aud",
                expected: "a string or an array of strings",
            },
        ),
    ];
    for (patch, expected) in cases {
        let token = access_token(&key, &access_claims_with(patch.clone()));
        assert_eq!(rejection(&[&key], &token).await, expected, "{patch}");
    }
    // An array that contains the audience is fine.
    let token = access_token(&key, &access_claims_with(json!({"aud": ["x", AUDIENCE]})));
    assert!(
        static_validator(keys(&[&key]))
            .validate::<Value>(&token)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn other_kinds_of_token_are_not_access_tokens() {
    let key = es256();
    let claims = access_claims();
    let expected = |found: Option<&str>| ValidationError::WrongTyp {
        expected: "\"at+jwt\"".into(),
        found: found.map(str::to_owned),
    };
    // An ID token, typed `JWT` or untyped, and a transaction token, all genuinely signed by
    // the same issuer key.
    for (typ, found) in [
        (Some("JWT"), Some("JWT")),
        (None, None),
        (Some("txntoken+jwt"), Some("txntoken+jwt")),
        (Some("dpop+jwt"), Some("dpop+jwt")),
    ] {
        let mut header = header(&key, "");
        match typ {
            Some(typ) => header["typ"] = typ.into(),
            None => {
                header.as_object_mut().unwrap().remove("typ");
            }
        }
        let token = sign_raw(&key, &header, &claims);
        assert_eq!(rejection(&[&key], &token).await, expected(found));
    }
    // RFC 7515 §4.1.9 spellings of the right type are accepted.
    for typ in ["AT+JWT", "application/at+jwt"] {
        let token = sign_raw(&key, &header(&key, typ), &claims);
        assert!(
            static_validator(keys(&[&key]))
                .validate::<Value>(&token)
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn a_tampered_payload_fails_the_signature() {
    let key = es256();
    let token = access_token(&key, &access_claims());
    let (header, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged_claims = access_claims_with(json!({"sub": "mallory"}));
    let forged = format!(
        "{header}.{}.{signature}",
        b64::encode(forged_claims.to_string())
    );
    assert_eq!(
        rejection(&[&key], &forged).await,
        ValidationError::Jws(JwsError::BadSignature)
    );
}

#[tokio::test]
async fn truncated_and_badly_encoded_tokens_are_refused() {
    let key = es256();
    let token = access_token(&key, &access_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let cases = [
        (format!("{h}.{p}"), JwsError::Malformed),
        (h.to_owned(), JwsError::Malformed),
        (format!("{token}.{s}"), JwsError::Malformed),
        // The signature cut off entirely, and cut mid-way (86 characters down to 85, a length
        // no base64url string has).
        (format!("{h}.{p}."), JwsError::BadSignature),
        (
            format!("{h}.{p}.{}", &s[..s.len() - 1]),
            JwsError::NotBase64Url(Segment::Signature),
        ),
        (
            format!("{h}.{p}.{}", &s[..s.len() - 2]),
            JwsError::BadSignature,
        ),
        // Padding, the standard alphabet, and whitespace are not base64url.
        (
            format!("{h}=.{p}.{s}"),
            JwsError::NotBase64Url(Segment::Header),
        ),
        (
            format!("{h}.{}/.{s}", &p[..p.len() - 1]),
            JwsError::NotBase64Url(Segment::Payload),
        ),
        (
            format!("{h}.{p}.{}+", &s[..s.len() - 1]),
            JwsError::NotBase64Url(Segment::Signature),
        ),
        (
            format!("{h}.{p} .{s}"),
            JwsError::NotBase64Url(Segment::Payload),
        ),
        (
            format!("{}.{p}.{s}", b64::encode("not json")),
            JwsError::NotJsonObject(Segment::Header),
        ),
    ];
    for (bad, expected) in cases {
        assert_eq!(
            rejection(&[&key], &bad).await,
            ValidationError::Jws(expected),
            "{bad}"
        );
    }
    // A payload that verifies but is not a JSON object.
    let array = sign_raw(&key, &header(&key, "at+jwt"), &json!([1, 2]));
    assert_eq!(
        rejection(&[&key], &array).await,
        ValidationError::Jws(JwsError::NotJsonObject(Segment::Payload))
    );
}

#[tokio::test]
async fn oversized_tokens_are_refused_before_any_decoding() {
    let key = es256();
    // Garbage that is not even base64url: had anything been decoded or parsed first, the error
    // would say so.
    let garbage = "!".repeat(MAX_TOKEN_BYTES + 1);
    assert_eq!(
        rejection(&[&key], &garbage).await,
        ValidationError::Jws(JwsError::TooLarge {
            len: MAX_TOKEN_BYTES + 1,
            max: MAX_TOKEN_BYTES
        })
    );
    // And a genuinely signed token that is simply too big.
    let padded = access_claims_with(json!({"pad": "x".repeat(MAX_TOKEN_BYTES)}));
    let big = access_token(&key, &padded);
    assert_eq!(
        rejection(&[&key], &big).await,
        ValidationError::Jws(JwsError::TooLarge {
            len: big.len(),
            max: MAX_TOKEN_BYTES
        })
    );
}

#[tokio::test]
async fn a_crit_header_is_refused() {
    let key = es256();
    let mut critical = header(&key, "at+jwt");
    critical["crit"] = json!(["exp"]);
    critical["exp"] = json!(NOW + 600);
    let token = sign_raw(&key, &critical, &access_claims());
    assert_eq!(
        rejection(&[&key], &token).await,
        ValidationError::Jws(JwsError::CriticalHeader(r#"["exp"]"#.into()))
    );
}

#[tokio::test]
async fn required_claims_duplicates_and_shape_are_enforced() {
    let key = es256();
    for missing in ["iat", "jti", "sub", "client_id"] {
        let token = access_token(&key, &access_claims_with(json!({ missing: null })));
        assert_eq!(
            rejection(&[&key], &token).await,
            ValidationError::MissingClaim(missing.into())
        );
    }
    // A duplicated `exp`: which one counts would depend on the parser, so neither does.
    let payload =
        access_claims()
            .to_string()
            .replacen('{', &format!("{{\"exp\":{},", NOW + 99_999), 1);
    let input = format!(
        "{}.{}",
        b64::encode(header(&key, "at+jwt").to_string()),
        b64::encode(&payload)
    );
    let token = format!(
        "{input}.{}",
        b64::encode(key.sign(input.as_bytes()).unwrap())
    );
    assert_eq!(
        rejection(&[&key], &token).await,
        ValidationError::DuplicateClaim("exp")
    );
}
