//! Hostile tokens beyond the design's list: repeated header parameters, odd JSON types and
//! numbers in the registered claims, `typ` and `kid` tricks, values meant to forge log lines,
//! and a bounded mutation run over a valid token.

use std::time::Duration;

use serde_json::{Value, json};
use tokens::jws::{JwsError, Segment};
use tokens::{Jwks, ManualClock, SigningKey, ValidationError, b64};

use crate::support::*;

fn keys(keys: &[&SigningKey]) -> Jwks {
    Jwks::new(keys.iter().map(|k| k.public_jwk().clone()).collect())
}

async fn rejection(key: &SigningKey, token: &str) -> ValidationError {
    static_validator(keys(&[key]))
        .validate::<Value>(token)
        .await
        .unwrap_err()
}

/// Signs a header and a payload given as raw JSON text, so members can repeat.
fn sign_text(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    format!(
        "{input}.{}",
        b64::encode(key.sign(input.as_bytes()).unwrap())
    )
}

#[tokio::test]
async fn repeated_header_parameters_are_refused() {
    let key = es256();
    let kid = key.kid();
    let payload = access_claims().to_string();
    for (header, name) in [
        (
            format!(r#"{{"alg":"none","alg":"ES256","typ":"at+jwt","kid":"{kid}"}}"#),
            "alg",
        ),
        // A transaction token (or ID token) header that a last-wins parser reads as `at+jwt`.
        (
            format!(r#"{{"alg":"ES256","typ":"txntoken+jwt","typ":"at+jwt","kid":"{kid}"}}"#),
            "typ",
        ),
        (
            format!(r#"{{"alg":"ES256","typ":"at+jwt","kid":"retired","kid":"{kid}"}}"#),
            "kid",
        ),
    ] {
        assert_eq!(
            rejection(&key, &sign_text(&key, &header, &payload)).await,
            ValidationError::Jws(JwsError::DuplicateMember {
                segment: Segment::Header,
                name: name.into()
            }),
            "{header}"
        );
    }
}

#[tokio::test]
async fn a_second_spelling_of_the_same_bytes_is_refused() {
    // A 64-byte signature is 86 base64url characters with 4 spare bits in the last one. Setting
    // them keeps the decoded bytes and changes the token string: anything keyed on the string
    // (a cache of validated tokens, a revocation list) would see a new token.
    let key = es256();
    let token = access_token(&key, &access_claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = alphabet.find(signature.chars().last().unwrap()).unwrap();
    assert_eq!(last & 0b1111, 0);
    for spare in 1..16 {
        let respelled = alphabet.chars().nth(last | spare).unwrap();
        let token = format!("{input}.{}{respelled}", &signature[..signature.len() - 1]);
        assert_eq!(
            rejection(&key, &token).await,
            ValidationError::Jws(JwsError::NotBase64Url(Segment::Signature)),
            "{token}"
        );
    }
}

#[tokio::test]
async fn numeric_dates_of_every_odd_shape_are_refused() {
    let key = es256();
    for exp in [
        json!("1700000600"),
        json!("NaN"),
        json!(true),
        json!([NOW + 600]),
        json!({"$numberLong": NOW + 600}),
        json!(1e19),
        json!(-1e300),
        json!(18_446_744_073_709_551_615_u64),
    ] {
        let token = access_token(&key, &access_claims_with(json!({ "exp": exp })));
        assert_eq!(
            rejection(&key, &token).await,
            ValidationError::NotANumericDate("exp"),
            "{exp}"
        );
    }
    // `null` removes the member in `access_claims_with`; written out, it is not a date either.
    let payload = access_claims()
        .to_string()
        .replacen('{', r#"{"nbf":null,"#, 1);
    let token = sign_text(&key, &header(&key, "at+jwt").to_string(), &payload);
    assert_eq!(
        rejection(&key, &token).await,
        ValidationError::NotANumericDate("nbf")
    );
    // Numbers JSON cannot represent as a double, and negative zero, tiny negatives.
    let payload = access_claims()
        .to_string()
        .replacen('{', r#"{"iat":1e400,"#, 1);
    let payload = payload.replacen(&format!("\"iat\":{NOW},"), "", 1);
    let token = sign_text(&key, &header(&key, "at+jwt").to_string(), &payload);
    assert_eq!(
        rejection(&key, &token).await,
        ValidationError::Jws(JwsError::NotJsonObject(Segment::Payload))
    );
    for (exp, expected) in [(json!(-0.0), 0), (json!(-1e-320), -1)] {
        let token = access_token(&key, &access_claims_with(json!({ "exp": exp })));
        assert_eq!(
            rejection(&key, &token).await,
            ValidationError::Expired {
                exp: expected,
                now: NOW
            }
        );
    }
    // An `exp` at the end of time is refused by a validator that bounds lifetimes.
    let forever = access_token(&key, &access_claims_with(json!({"exp": i64::MAX})));
    let bounded = access_validator()
        .max_lifetime(Duration::from_secs(900))
        .clock(ManualClock::new(NOW))
        .keys(keys(&[&key]))
        .build()
        .unwrap();
    assert_eq!(
        bounded.validate::<Value>(&forever).await.unwrap_err(),
        ValidationError::LifetimeTooLong {
            exp: i64::MAX,
            max_seconds: 900
        }
    );
}

#[tokio::test]
async fn audiences_of_odd_types_and_near_misses_are_refused() {
    let key = es256();
    let malformed = ValidationError::InvalidClaim {
        claim: "aud",
        expected: "a string or an array of strings",
    };
    for aud in [
        json!([null]),
        json!([[AUDIENCE]]),
        json!({ "0": AUDIENCE }),
        json!([AUDIENCE, 1]),
        json!([AUDIENCE, {"aud": AUDIENCE}]),
        json!(true),
        json!(0),
    ] {
        let token = access_token(&key, &access_claims_with(json!({ "aud": aud })));
        assert_eq!(rejection(&key, &token).await, malformed, "{aud}");
    }
    let wrong = ValidationError::WrongAudience {
        expected: AUDIENCE.into(),
    };
    for aud in [
        json!([]),
        json!("Agent-B"),
        json!("agent-b "),
        json!("agent-b\u{0}"),
        json!("agent\u{2010}b"),
        json!(["agent-b/", "https://agent-b"]),
    ] {
        let token = access_token(&key, &access_claims_with(json!({ "aud": aud })));
        assert_eq!(rejection(&key, &token).await, wrong, "{aud}");
    }
}

#[tokio::test]
async fn typ_spellings_outside_rfc_7515_are_refused() {
    let key = es256();
    for typ in ["AT+JWT", "application/at+jwt", "Application/AT+JWT"] {
        let token = sign_raw(&key, &header(&key, typ), &access_claims());
        assert!(
            static_validator(keys(&[&key]))
                .validate::<Value>(&token)
                .await
                .is_ok(),
            "{typ}"
        );
    }
    for typ in [
        "at+jwt ",
        " at+jwt",
        "at+jwt\u{0}",
        "at+jwt;charset=utf-8",
        "x-application/at+jwt",
        "application/at+jwt/",
        "at+jwt+jwt",
        "at\u{2B}jwt\u{200B}",
        "JWT",
        "jwt",
        "dpop+jwt",
        "",
    ] {
        let token = sign_raw(&key, &header(&key, typ), &access_claims());
        assert!(
            matches!(
                rejection(&key, &token).await,
                ValidationError::WrongTyp { .. }
            ),
            "{typ:?}"
        );
    }
    for typ in [json!(null), json!(["at+jwt"]), json!({"typ": "at+jwt"})] {
        let mut header = header(&key, "at+jwt");
        header["typ"] = typ.clone();
        let token = sign_raw(&key, &header, &access_claims());
        assert!(
            matches!(
                rejection(&key, &token).await,
                ValidationError::WrongTyp { .. }
            ),
            "{typ}"
        );
    }
}

#[tokio::test]
async fn kid_and_issuer_tricks_are_refused_and_shown_escaped() {
    let key = es256();
    for kid in [
        "../../../etc/passwd",
        "",
        "\u{0}",
        "https://evil.example/jwks.json",
        &format!("{}\nlevel=INFO msg=accepted", key.kid()),
    ] {
        let mut header = header(&key, "at+jwt");
        header["kid"] = json!(kid);
        let error = rejection(&key, &sign_raw(&key, &header, &access_claims())).await;
        assert!(
            matches!(error, ValidationError::UnknownKid(_)),
            "{kid:?}: {error:?}"
        );
        assert!(!error.to_string().contains('\n'));
    }
    for kid in [json!(7), json!([key.kid()]), json!(null)] {
        let mut header = header(&key, "at+jwt");
        header["kid"] = kid;
        assert_eq!(
            rejection(&key, &sign_raw(&key, &header, &access_claims())).await,
            ValidationError::MissingKid
        );
    }
    for iss in [
        format!("{ISSUER}/"),
        format!("{ISSUER}\u{0}"),
        ISSUER.to_uppercase(),
        ISSUER.replace('e', "\u{435}"),
        format!("{ISSUER}\nlevel=INFO"),
    ] {
        let token = access_token(&key, &access_claims_with(json!({ "iss": iss })));
        let error = rejection(&key, &token).await;
        assert!(
            matches!(error, ValidationError::WrongIssuer { .. }),
            "{iss:?}"
        );
        assert!(!error.to_string().contains('\n'));
    }
}

#[tokio::test]
async fn an_unauthenticated_alg_cannot_forge_a_log_line() {
    let key = es256();
    let mut header = header(&key, "at+jwt");
    header["alg"] = json!(format!(
        "ES256\nlevel=INFO msg=\"token accepted\" {}",
        "x".repeat(4000)
    ));
    let error = rejection(&key, &sign_raw(&key, &header, &access_claims())).await;
    assert!(matches!(
        error,
        ValidationError::Jws(JwsError::AlgorithmNotAllowed(_))
    ));
    let message = error.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.len() < 200, "{message}");
}

#[test]
fn a_published_small_order_key_is_skipped() {
    let good = SigningKey::generate(tokens::Algorithm::EdDsa).unwrap();
    let document = json!({"keys": [
        {"kty": "OKP", "crv": "Ed25519", "kid": "weak", "x": b64::encode([0u8; 32])},
        good.public_jwk().to_value(),
    ]});
    let jwks = Jwks::from_json(document.to_string().as_bytes()).unwrap();
    assert!(jwks.find("weak").is_none());
    assert!(jwks.find(good.kid()).is_some());
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        usize::try_from(value % n as u64).unwrap()
    }
}

#[tokio::test]
async fn mutated_tokens_never_validate_and_never_panic() {
    const ALPHABET: &[u8] = b"AZaz09-_.=+/ \\\"{}[]:,\0";
    let key = es256();
    let validator = static_validator(keys(&[&key]));
    let token = access_token(&key, &access_claims());
    validator.validate::<Value>(&token).await.unwrap();
    let mut rng = Rng(0x243f_6a88_85a3_08d3);
    let mut tried = 0;
    for _ in 0..2000 {
        let mut bytes = token.clone().into_bytes();
        for _ in 0..=rng.below(3) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.below(bytes.len());
            match rng.below(6) {
                0 => bytes[at] ^= 1 << rng.below(7),
                1 => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
                2 => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                3 => {
                    bytes.remove(at);
                }
                4 => bytes.truncate(at),
                _ => {
                    let copy = bytes[at..].to_vec();
                    bytes.extend_from_slice(&copy);
                }
            }
        }
        let Ok(mutated) = String::from_utf8(bytes) else {
            continue;
        };
        if mutated == token {
            continue;
        }
        tried += 1;
        assert!(
            validator.validate::<Value>(&mutated).await.is_err(),
            "accepted a mutated token: {mutated}"
        );
    }
    assert!(tried > 1500, "{tried}");
}
