//! What DPoP costs a resource server per request, against the floor of the two signature checks
//! such a request needs anyway (the proof's and the access token's).
//!
//! `cargo bench -p tokens --bench dpop`. After criterion's report, a direct interleaved timing
//! prints the ratio full / floor; the target is at most 1.3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use http::Method;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::json;
use tokens::dpop::{DpopConfig, DpopKey, DpopVerifier, Htu};
use tokens::{Algorithm, ManualClock, SigningKey, b64, jws};

const NOW: i64 = 1_800_000_000;
/// Proofs per simulated second: with a 60 s window the replay cache settles at about 60,000
/// live entries, the size a busy service would carry, and its periodic sweeps are included.
const PROOFS_PER_SECOND: u64 = 1000;

/// A JWS split into what a bare signature check consumes.
struct Raw {
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

impl Raw {
    fn of(token: &str) -> Self {
        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        Self {
            signing_input: signing_input.as_bytes().to_vec(),
            signature: b64::decode(signature).unwrap(),
        }
    }

    fn verify(&self, key: &UnparsedPublicKey<Vec<u8>>) {
        key.verify(&self.signing_input, &self.signature).unwrap();
    }
}

struct Fixture {
    clock: Arc<ManualClock>,
    client: DpopKey,
    verifier: DpopVerifier,
    htu: Htu,
    access_token: String,
    token_raw: Raw,
    issuer_key: UnparsedPublicKey<Vec<u8>>,
    proof_key: UnparsedPublicKey<Vec<u8>>,
    made: u64,
}

fn point(key: &tokens::PublicJwk) -> Vec<u8> {
    let value = key.to_value();
    let mut point = vec![4];
    point.extend(b64::decode(value["x"].as_str().unwrap()).unwrap());
    point.extend(b64::decode(value["y"].as_str().unwrap()).unwrap());
    point
}

impl Fixture {
    fn new() -> Self {
        let clock = ManualClock::new(NOW);
        let client = DpopKey::generate(clock.clone()).unwrap();
        let issuer = SigningKey::generate(Algorithm::Es256).unwrap();
        let access_token = jws::sign(
            &issuer,
            "at+jwt",
            &json!({
                "iss": "https://idp.example", "sub": "customer-1", "aud": "agent-b",
                "exp": NOW + 900, "scope": "chatbot:access agent:invoke",
                "cnf": {"jkt": client.jkt()}
            }),
            None,
        )
        .unwrap();
        let verifier = DpopVerifier::new(
            DpopConfig {
                algorithms: vec![Algorithm::Es256],
                replay_capacity: 200_000,
                ..DpopConfig::default()
            },
            clock.clone(),
        )
        .unwrap();
        Self {
            token_raw: Raw::of(&access_token),
            issuer_key: UnparsedPublicKey::new(
                &ECDSA_P256_SHA256_FIXED,
                point(issuer.public_jwk()),
            ),
            proof_key: UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point(client.public_jwk())),
            htu: Htu::parse("https://agent-b.namespace-b.example/v1/chat").unwrap(),
            clock,
            client,
            verifier,
            access_token,
            made: 0,
        }
    }

    /// A fresh proof (new `jti`), the clock moving one second every `PROOFS_PER_SECOND`.
    fn next_proof(&mut self) -> String {
        self.made += 1;
        if self.made.is_multiple_of(PROOFS_PER_SECOND) {
            self.clock.advance(1);
        }
        self.client
            .proof(&Method::POST, &self.htu, Some(&self.access_token), None)
            .unwrap()
    }

    /// (a) The floor: the two ES256 verifications, inputs already decoded.
    fn floor(&self, proof: &Raw) {
        proof.verify(&self.proof_key);
        self.token_raw.verify(&self.issuer_key);
    }

    /// (b) Everything DPoP adds, plus the access token's signature.
    fn full(&self, proof: &str) {
        let verified = self
            .verifier
            .verify(
                proof,
                &Method::POST,
                &self.htu,
                Some(&self.access_token),
                Some(self.client.jkt()),
            )
            .unwrap();
        black_box(verified);
        self.token_raw.verify(&self.issuer_key);
    }
}

fn criterion_benches(c: &mut Criterion) {
    let mut fixture = Fixture::new();
    let fixed_proof = Raw::of(&fixture.next_proof());
    let mut group = c.benchmark_group("dpop");
    group.bench_function("a_floor_two_es256_verifications", |b| {
        b.iter(|| fixture.floor(black_box(&fixed_proof)));
    });
    // The proof is made in the untimed setup; only verification is measured.
    let fixture = std::cell::RefCell::new(fixture);
    group.bench_function("b_full_dpop_plus_token_signature", |b| {
        b.iter_batched(
            || fixture.borrow_mut().next_proof(),
            |proof| fixture.borrow().full(black_box(&proof)),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

/// Times (a) and (b) over the same proofs, interleaved in rounds so that frequency scaling and
/// neighbours affect both alike, and prints the median ratio.
fn ratio() {
    const ROUNDS: usize = 7;
    const PER_ROUND: usize = 400;
    let mut fixture = Fixture::new();
    let mut ratios = Vec::with_capacity(ROUNDS);
    let mut floors = Vec::with_capacity(ROUNDS);
    let mut fulls = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let proofs: Vec<String> = (0..PER_ROUND).map(|_| fixture.next_proof()).collect();
        let raws: Vec<Raw> = proofs.iter().map(|proof| Raw::of(proof)).collect();
        let start = Instant::now();
        for raw in &raws {
            fixture.floor(black_box(raw));
        }
        let floor = start.elapsed();
        let start = Instant::now();
        for proof in &proofs {
            fixture.full(black_box(proof));
        }
        let full = start.elapsed();
        floors.push(floor / PER_ROUND as u32);
        fulls.push(full / PER_ROUND as u32);
        ratios.push(full.as_secs_f64() / floor.as_secs_f64());
    }
    let median = |values: &mut Vec<Duration>| {
        values.sort();
        values[values.len() / 2]
    };
    ratios.sort_by(f64::total_cmp);
    println!(
        "\nDPoP ratio (median of {ROUNDS} interleaved rounds of {PER_ROUND}): \
         floor (a) {:?}/request, full (b) {:?}/request, b/a = {:.3} (target <= 1.30)",
        median(&mut floors),
        median(&mut fulls),
        ratios[ROUNDS / 2],
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion);
    criterion.final_summary();
    // `cargo test --benches` runs this binary without `--bench` to smoke-test it; the ratio
    // needs real timing runs, so only `cargo bench` prints it.
    if std::env::args().any(|arg| arg == "--bench") {
        ratio();
    }
}
