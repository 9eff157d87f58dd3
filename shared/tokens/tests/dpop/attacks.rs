//! Hostile proofs: a client (or whoever captured a proof) trying to get past the verifier with
//! encodings and keys the RFC 9449 §4.3 checks alone do not mention.

use serde_json::{Value, json};
use tokens::dpop::{HtuError, access_token_hash};
use tokens::jwk::{JwkError, rfc7638_thumbprint};
use tokens::jws::{JwsError, Segment};
use tokens::{Algorithm, DpopError, b64};

use crate::helpers::{Forge, NOW, Server, TOKEN, URL, public_members};

/// Signs a header and a payload given as raw JSON text (so members can repeat).
fn sign_text(forge: &Forge, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let signature = forge.key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64::encode(signature))
}

fn header_text(forge: &Forge) -> String {
    Value::Object(forge.header.clone()).to_string()
}

#[test]
fn a_small_order_ed25519_key_cannot_stand_in_for_a_signature() {
    // The identity point as the proof key, and `R = identity, S = 0` as the "signature": ring
    // accepts that pair for every message, so the proof would carry no proof of possession.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64::encode(identity)});
    let header = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk});
    let claims = json!({
        "jti": "forged-1", "htm": "POST", "htu": URL, "iat": NOW,
        "ath": access_token_hash(TOKEN),
    });
    let mut signature = [0u8; 64];
    signature[0] = 1;
    let proof = format!(
        "{}.{}.{}",
        b64::encode(header.to_string()),
        b64::encode(claims.to_string()),
        b64::encode(signature)
    );
    let server = Server::new();
    let err = server.token_endpoint(&proof).unwrap_err();
    assert_eq!(err, DpopError::InvalidJwk(JwkError::WeakKey));
    assert_eq!(err.error_code(), "invalid_dpop_proof");
    // Nor at a resource whose token a careless issuer bound to that key.
    let jkt = rfc7638_thumbprint(&jwk).unwrap();
    assert_eq!(
        server.resource(&proof, &jkt),
        Err(DpopError::InvalidJwk(JwkError::WeakKey))
    );
}

#[test]
fn repeated_claims_in_a_proof_are_refused() {
    let server = Server::new();
    let forge = Forge::es256();
    let ath = access_token_hash(TOKEN);
    for (payload, name) in [
        (
            format!(
                r#"{{"jti":"d1","htm":"POST","htu":"https://evil.example/","htu":"{URL}","iat":{NOW},"ath":"{ath}"}}"#
            ),
            "htu",
        ),
        (
            format!(
                r#"{{"jti":"d2","jti":"d3","htm":"POST","htu":"{URL}","iat":{NOW},"ath":"{ath}"}}"#
            ),
            "jti",
        ),
        (
            format!(
                r#"{{"jti":"d4","htm":"GET","htm":"POST","htu":"{URL}","iat":{NOW},"ath":"{ath}"}}"#
            ),
            "htm",
        ),
    ] {
        let proof = sign_text(&forge, &header_text(&forge), &payload);
        assert_eq!(
            server.resource(&proof, &forge.jkt()),
            Err(DpopError::MalformedJwt(JwsError::DuplicateMember {
                segment: Segment::Payload,
                name: name.into()
            })),
            "{payload}"
        );
    }
    // Nothing was recorded: the same jti in a well-formed proof is still good.
    let mut claims = forge.claims.clone();
    claims.insert("jti".into(), json!("d1"));
    let proof = sign_text(
        &forge,
        &header_text(&forge),
        &Value::Object(claims).to_string(),
    );
    server.resource(&proof, &forge.jkt()).unwrap();
}

#[test]
fn repeated_header_members_are_refused() {
    let server = Server::new();
    let forge = Forge::es256();
    let other = Forge::es256();
    let jwk = public_members(&forge.key);
    let decoy = public_members(&other.key);
    let payload = Value::Object(forge.claims.clone()).to_string();
    for (header, name) in [
        // Two keys: one parser checks the signature with the first, another with the last.
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{decoy},"jwk":{jwk}}}"#),
            "jwk",
        ),
        (
            format!(r#"{{"typ":"JWT","typ":"dpop+jwt","alg":"ES256","jwk":{jwk}}}"#),
            "typ",
        ),
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"none","alg":"ES256","jwk":{jwk}}}"#),
            "alg",
        ),
    ] {
        let proof = sign_text(&forge, &header, &payload);
        assert_eq!(
            server.resource(&proof, &forge.jkt()),
            Err(DpopError::MalformedJwt(JwsError::DuplicateMember {
                segment: Segment::Header,
                name: name.into()
            })),
            "{header}"
        );
    }
    // A repeated coordinate inside the embedded key.
    let x = jwk["x"].as_str().unwrap();
    let y = jwk["y"].as_str().unwrap();
    let x2 = decoy["x"].as_str().unwrap();
    let header = format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","crv":"P-256","x":"{x2}","x":"{x}","y":"{y}"}}}}"#
    );
    assert_eq!(
        server.resource(&sign_text(&forge, &header, &payload), &forge.jkt()),
        Err(DpopError::MalformedJwt(JwsError::DuplicateMember {
            segment: Segment::Header,
            name: "x".into()
        }))
    );
}

#[test]
fn htu_spellings_that_reach_another_host_are_refused() {
    let server = Server::new();
    for (htu, expected) in [
        // A soft hyphen, which the WHATWG parser's IDNA mapping silently deletes.
        (
            "https://agent-b%C2%AD.example/v1/chat",
            HtuError::NonCanonicalHost,
        ),
        (
            "https://agent-b%2Eexample/v1/chat",
            HtuError::NonCanonicalHost,
        ),
        ("https://@agent-b.example/v1/chat", HtuError::UserInfo),
        ("https://:@agent-b.example/v1/chat", HtuError::UserInfo),
    ] {
        let forge = Forge::es256().claim("htu", json!(htu));
        assert_eq!(
            server.resource(&forge.sign(), &forge.jkt()),
            Err(DpopError::InvalidHtu(expected)),
            "{htu}"
        );
    }
    // Backslashes, tabs, IDN in Unicode and bare IPv6 zone ids never parse at all.
    for htu in [
        "https://agent-b.example\\v1/chat",
        "https://agent-b.example/v1/\tchat",
        "https://agent-b.éxample/v1/chat",
    ] {
        let forge = Forge::es256().claim("htu", json!(htu));
        assert_eq!(
            server.resource(&forge.sign(), &forge.jkt()),
            Err(DpopError::InvalidHtu(HtuError::InvalidCharacter)),
            "{htu}"
        );
    }
}

#[test]
fn ath_in_other_encodings_of_the_same_hash_is_refused() {
    let server = Server::new();
    let digest = b64::decode(&access_token_hash(TOKEN)).unwrap();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let padded = format!("{}=", access_token_hash(TOKEN));
    let standard = access_token_hash(TOKEN).replace('-', "+").replace('_', "/");
    for ath in [
        padded,
        hex,
        format!(" {}", access_token_hash(TOKEN)),
        access_token_hash(TOKEN).to_uppercase(),
        access_token_hash(&format!("{TOKEN} ")),
        access_token_hash(""),
    ] {
        let forge = Forge::es256().claim("ath", json!(ath));
        assert_eq!(
            server.resource(&forge.sign(), &forge.jkt()),
            Err(DpopError::AthMismatch),
            "{ath}"
        );
    }
    // The standard alphabet spelling differs only if the hash has `-` or `_`; either way it is
    // refused or identical, never accepted as a second spelling.
    if standard != access_token_hash(TOKEN) {
        let forge = Forge::es256().claim("ath", json!(standard));
        assert_eq!(
            server.resource(&forge.sign(), &forge.jkt()),
            Err(DpopError::AthMismatch)
        );
    }
}

#[test]
fn extra_jwk_members_do_not_change_which_key_the_proof_is_for() {
    let server = Server::new();
    let forge = Forge::es256();
    let mut jwk = public_members(&forge.key);
    jwk["kid"] = json!("someone-elses-kid");
    jwk["use"] = json!("enc");
    jwk["x5t#S256"] = json!("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    jwk["jkt"] = json!("not-the-thumbprint");
    let forge = forge.header("jwk", jwk);
    // The binding is the RFC 7638 thumbprint over the required members only.
    let verified = server.resource(&forge.sign(), &forge.jkt()).unwrap();
    assert_eq!(verified.jkt(), forge.jkt());
    // And a header `kid` beside the `jwk` selects nothing.
    let other = Forge::es256();
    let forge = Forge::es256().header("kid", json!(other.key.kid()));
    assert_eq!(
        server.resource(&forge.sign(), &other.jkt()),
        Err(DpopError::JktMismatch {
            expected: other.jkt(),
            found: forge.jkt()
        })
    );
}

/// `n - s` for P-256: the other valid `s` of an ECDSA signature over the same message.
fn negate_s(signature: &[u8]) -> Vec<u8> {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let (r, s) = signature.split_at(32);
    let mut negated = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut digit = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(digit < 0);
        if digit < 0 {
            digit += 256;
        }
        negated[i] = u8::try_from(digit).unwrap();
    }
    [r, &negated[..]].concat()
}

#[test]
fn a_re_encoded_proof_is_still_a_replay() {
    let server = Server::new();
    let forge = Forge::es256();
    let proof = forge.sign();
    server.resource(&proof, &forge.jkt()).unwrap();

    // ECDSA malleability: a second valid signature over the same bytes makes a different
    // proof string with the same `jti`.
    let (input, signature) = proof.rsplit_once('.').unwrap();
    let malleated = format!(
        "{input}.{}",
        b64::encode(negate_s(&b64::decode(signature).unwrap()))
    );
    assert_ne!(malleated, proof);
    assert_eq!(
        server.resource(&malleated, &forge.jkt()),
        Err(DpopError::Replayed)
    );

    // The same signature bytes in a non-canonical base64url spelling (trailing bits set).
    let last = signature.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let value = alphabet.find(last).unwrap();
    let respelled_char = alphabet.chars().nth(value | 1).unwrap();
    let noncanonical = format!(
        "{input}.{}{respelled_char}",
        &signature[..signature.len() - 1]
    );
    assert_ne!(noncanonical, proof);
    assert_eq!(
        server.resource(&noncanonical, &forge.jkt()),
        Err(DpopError::MalformedJwt(JwsError::NotBase64Url(
            Segment::Signature
        )))
    );

    // The key holder re-signing the same `jti` with other whitespace, member order and
    // escapes: the cache compares the decoded `jti`.
    let jti = forge.claims["jti"].as_str().unwrap().to_owned();
    let escaped: String = jti
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let payload = format!(
        "{{ \"ath\" : \"{}\", \"iat\":{NOW}, \"htu\":\"{URL}\", \"htm\":\"POST\", \"jti\":\"{escaped}\" }}",
        access_token_hash(TOKEN)
    );
    let respelled = sign_text(&forge, &header_text(&forge), &payload);
    assert_eq!(
        server.resource(&respelled, &forge.jkt()),
        Err(DpopError::Replayed)
    );
}

#[test]
fn hostile_values_never_reach_a_log_line_raw() {
    let server = Server::new();
    let forged_line = "EC\nlevel=INFO msg=\"accepted\"";
    let mut jwk = public_members(&Forge::es256().key);
    jwk["kty"] = json!(forged_line);
    let forge = Forge::es256().header("jwk", jwk);
    let err = server.token_endpoint(&forge.sign()).unwrap_err();
    assert!(matches!(
        err,
        DpopError::InvalidJwk(JwkError::UnsupportedKeyType(_))
    ));
    let mut jwk = public_members(&Forge::es256().key);
    jwk["crv"] = json!(forged_line);
    let crv = Forge::es256().header("jwk", jwk);
    let alg = Forge::es256().header("alg", json!(forged_line));
    let scheme = Forge::es256().claim("htu", json!(format!("{}://x/", "s".repeat(4000))));
    for message in [
        err.to_string(),
        server.token_endpoint(&crv.sign()).unwrap_err().to_string(),
        server
            .token_endpoint(&alg.with_signature(&[0; 64]))
            .unwrap_err()
            .to_string(),
        server
            .token_endpoint(&scheme.sign())
            .unwrap_err()
            .to_string(),
    ] {
        assert!(!message.contains('\n'), "{message}");
        assert!(message.len() < 240, "{message}");
    }
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

/// One random edit of `text`: flip, replace, insert or delete a byte, duplicate or drop a
/// segment, or cut the text short. The result may not be UTF-8; such inputs cannot arrive as a
/// header value, so they are skipped by the caller.
fn mutate(rng: &mut Rng, text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCxyz019-_.=+/ \\\"{}:,\0\xff";
    let mut bytes = text.as_bytes().to_vec();
    if bytes.is_empty() {
        return bytes;
    }
    let at = rng.below(bytes.len());
    match rng.below(7) {
        0 => bytes[at] ^= 1 << rng.below(8),
        1 => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
        2 => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
        3 => {
            bytes.remove(at);
        }
        4 => bytes.truncate(at),
        5 => {
            let copy = bytes[at..].to_vec();
            bytes.extend_from_slice(&copy);
        }
        _ => {
            let end = (at + 1 + rng.below(8)).min(bytes.len());
            bytes.drain(at..end);
        }
    }
    bytes
}

#[test]
fn mutated_proofs_never_pass_and_never_panic() {
    let server = Server::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let forge = Forge::new(alg);
        let proof = forge.sign();
        for _ in 0..1500 {
            let mut bytes = mutate(&mut rng, &proof);
            if rng.below(3) == 0 {
                bytes = mutate(&mut rng, &String::from_utf8_lossy(&bytes));
            }
            let Ok(mutated) = String::from_utf8(bytes) else {
                continue;
            };
            if mutated == proof {
                continue;
            }
            let outcome = server.resource(&mutated, &forge.jkt());
            assert!(outcome.is_err(), "accepted a mutated proof: {mutated}");
        }
        // And the untouched proof still passes: the mutations burnt nothing.
        server.resource(&proof, &forge.jkt()).unwrap();
    }
}
