//! What full access-token validation costs against its floor, the bare ES256 signature check.
//!
//! `cargo bench -p tokens --bench validation` measures
//! (a) `floor`: ring verifying the token's signing input with the issuer's public key, nothing
//!     else: the work no validator can skip;
//! (b) `full`: `Validator::validate::<AccessTokenClaims>` with the key in a warm JWKS cache
//!     (fetched once over HTTP from a local server): size bound, split and decode, header, `alg`,
//!     `typ`, key lookup, signature, registered claims, scopes, and the typed claims.
//!
//! Both run through `iter_custom`, which records each sample's time; after criterion's report the
//! ratio of the median times per iteration, (b)/(a), is printed. The target is at most 1.3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use criterion::Criterion;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::{Value, json};
use tokens::claims::AccessTokenClaims;
use tokens::{Algorithm, JwksCache, SigningKey, Validator, b64, jws};
use url::Url;

/// Nanoseconds per iteration of every sample criterion took, by benchmark.
static SAMPLES: Mutex<Vec<(&str, f64)>> = Mutex::new(Vec::new());

fn record(name: &'static str, iterations: u64, elapsed: Duration) -> Duration {
    let per_iteration = elapsed.as_nanos() as f64 / iterations.max(1) as f64;
    SAMPLES.lock().unwrap().push((name, per_iteration));
    elapsed
}

fn median(name: &str) -> Option<f64> {
    let mut times: Vec<f64> = SAMPLES
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .collect();
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied()
}

/// A typical customer access token: RFC 9068 claims, three scopes, a DPoP binding.
fn access_token(key: &SigningKey, now: i64) -> String {
    let claims = json!({
        "iss": "https://iam.example", "sub": "3f1c2a4e-9b7d-4e2a-8c1f-5d6e7f8a9b0c",
        "aud": "https://agent-b.namespace-b.example/api", "exp": now + 900, "iat": now,
        "nbf": now, "jti": "b1f0c6f2-7d8e-4c33-a9b5-0e2d4c6a8f10", "client_id": "web-app",
        "scope": "openid chatbot:access agent:invoke", "auth_time": now - 30,
        "acr": "urn:example:acr:mfa", "amr": ["pwd", "otp"],
        "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
    });
    jws::sign(key, "at+jwt", &claims, None).unwrap()
}

fn benches(c: &mut Criterion) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let token = access_token(&key, now);

    // (a) The floor: the signature over the signing input, with the key as ring wants it.
    let jwk: Value = key.public_jwk().to_value();
    let mut point = vec![4u8];
    point.extend(b64::decode(jwk["x"].as_str().unwrap()).unwrap());
    point.extend(b64::decode(jwk["y"].as_str().unwrap()).unwrap());
    let public_key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point);
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signature = b64::decode(signature).unwrap();
    c.bench_function("validation/floor: ES256 verify", |b| {
        b.iter_custom(|iterations| {
            let start = Instant::now();
            for _ in 0..iterations {
                public_key
                    .verify(black_box(signing_input.as_bytes()), black_box(&signature))
                    .unwrap();
            }
            record("floor", iterations, start.elapsed())
        });
    });

    // (b) Full validation, the key in a warm cache of a JWKS served over real HTTP.
    let validator = runtime.block_on(async {
        let document = tokens::Jwks::new(vec![key.public_jwk().clone()]).to_json();
        let app = Router::new().route("/jwks", get(move || async move { axum::Json(document) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = Url::parse(&format!("http://{}/jwks", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let cache = JwksCache::http(reqwest::Client::new(), uri)
            .unwrap()
            .build()
            .unwrap();
        cache.refresh().await.unwrap();
        let validator = Validator::builder()
            .issuer("https://iam.example")
            .audience("https://agent-b.namespace-b.example/api")
            .typ("at+jwt")
            .algorithms(&[Algorithm::Es256])
            .require(&["iat", "jti", "sub", "client_id"])
            .require_scopes(&["agent:invoke"])
            .keys(cache)
            .build()
            .unwrap();
        // Warm and sanity-check.
        validator
            .validate::<AccessTokenClaims>(&token)
            .await
            .unwrap();
        validator
    });
    c.bench_function(
        "validation/full: validate::<AccessTokenClaims>, warm JWKS cache",
        |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iterations {
                        let verified = validator
                            .validate::<AccessTokenClaims>(black_box(&token))
                            .await
                            .unwrap();
                        black_box(verified);
                    }
                    record("full", iterations, start.elapsed())
                })
            });
        },
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    // A filtered run (`cargo bench -- floor`) or `--list` has nothing to compare.
    let (Some(floor), Some(full)) = (median("floor"), median("full")) else {
        return;
    };
    println!(
        "validation/ratio: full / floor = {:.3} (median per iteration: floor {:.2} µs, full {:.2} µs; target ≤ 1.3)",
        full / floor,
        floor / 1000.0,
        full / 1000.0
    );
}
