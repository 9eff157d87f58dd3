//! Load generator for `POST /v1/chat`: starts the real chain in this process on 127.0.0.1 (the
//! internal IAM, Service A2, Agent A and Agent B, with a dev PKI and SQLite databases in a
//! temporary directory, exactly as the integration tests do) and drives Agent B as the web app
//! does: one mutual-TLS HTTP/2 connection, `CONCURRENCY` requests in flight, a fresh DPoP proof
//! per request.
//!
//! - (a) greetings: step 12 (token and proof checks) and a local answer;
//! - (b) balance questions: the whole chain, steps 12 to 22, with the service token cached and a
//!   transaction token exchanged per request.
//!
//! It reports requests per second and latency percentiles for each (a request's latency starts
//! after its proof is signed). Agent B's share of the work cannot be separated from the others':
//! every program and the load generator, including its ES256 proof signing, share the machine's
//! cores, so the figures are a floor for a deployment.
//! Afterwards it checks that the balance load cost exactly one `client_credentials` issuance and
//! one connection from Agent B to the IAM.
//!
//! `cargo bench -p agent-b --bench chat`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[allow(dead_code)]
#[path = "../tests/agent_b/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::web_app::WebApp;
use support::{ALICE, TestEnv};
use wire::GrantType;

const CONCURRENCY: usize = 8;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let env = TestEnv::start().await;
    let web = Arc::new(env.web_app());
    let token = Arc::new(env.token(&web, ALICE));

    println!("agent-b chat load: {CONCURRENCY} requests in flight on one mTLS HTTP/2 connection");
    load("greeting (step 12, local answer)", &web, &token, "Hello!").await;
    load(
        "balance (steps 12-22, cached service token)",
        &web,
        &token,
        "What is my balance?",
    )
    .await;

    let issued = env.iam.issued(GrantType::ClientCredentials.as_str()).await;
    let exchanged = env.iam.issued(GrantType::TokenExchange.as_str()).await;
    println!(
        "internal IAM: {issued} service token(s), {exchanged} transaction tokens, {} connection(s) from Agent B",
        env.iam_relay.connections()
    );
    assert_eq!(
        issued, 1,
        "the service token is cached across the whole load"
    );
    assert_eq!(env.iam_relay.connections(), 1);
    env.stop().await;
}

/// Warms up, then measures `message` for [`MEASURE`].
async fn load(name: &str, web: &Arc<WebApp>, token: &Arc<String>, message: &'static str) {
    drive(web, token, message, WARM_UP).await;
    let cpu_before = process_cpu_time();
    let started = Instant::now();
    let mut latencies = drive(web, token, message, MEASURE).await;
    let elapsed = started.elapsed();
    let cpu = process_cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p) as usize).min(latencies.len() - 1);
        latencies[index].as_secs_f64() * 1000.0
    };
    let cpu_per_request = cpu.map_or_else(
        || "n/a".to_owned(),
        |cpu| {
            format!(
                "{:.3} ms",
                cpu.as_secs_f64() * 1000.0 / latencies.len() as f64
            )
        },
    );
    println!(
        "{name}: {} requests, {:.0} req/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, CPU {cpu_per_request}/request",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.90),
        percentile(0.99),
    );
}

/// CPU time (user + system) of this whole process so far: the four programs and the load
/// generator. Per request it is a steadier figure than requests per second on a machine shared
/// with other work, which takes cores away but does not change the work per request. Linux
/// only (`/proc/self/stat`, in clock ticks of 10 ms); `None` elsewhere.
fn process_cpu_time() -> Option<Duration> {
    /// `USER_HZ`: 100 on every Linux architecture this runs on.
    const TICKS_PER_SECOND: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces: `utime`
    // and `stime` are fields 14 and 15 of the line, 12 and 13 after the name.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// `CONCURRENCY` workers sending `message` until `duration` has passed; every answer must be a
/// 200. Returns each request's latency.
async fn drive(
    web: &Arc<WebApp>,
    token: &Arc<String>,
    message: &'static str,
    duration: Duration,
) -> Vec<Duration> {
    let deadline = Instant::now() + duration;
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (web, token) = (web.clone(), token.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let call = web.call(&token, message);
                    let started = Instant::now();
                    let reply = web.send(call).await;
                    latencies.push(started.elapsed());
                    assert_eq!(reply.status, 200, "{}", reply.body);
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all
}
