//! Load generator for `client_credentials` issuance: starts the real `internal-iam` binary on
//! 127.0.0.1 with a fresh dev PKI and SQLite database, then drives `POST /token` as Agent B
//!
//! - (a) over N kept-alive HTTP/1.1 mTLS connections, one request in flight per connection;
//! - (b) with a full TLS 1.3 mutual handshake per request (new TCP connection, no resumption).
//!
//! It reports requests per second and latency percentiles, the server's idle RSS (VmRSS from
//! /proc after start-up, before any load) and peak RSS, and checks afterwards that the audit
//! holds exactly one `issued` row per successful request.
//!
//! `cargo bench -p internal-iam --bench issuance` (the load generator shares the machine's cores
//! with the server, so the figures are a floor for the server alone).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use workload_identity::workloads::{AGENT_B, INTERNAL_IAM};
use workload_identity::{ClientAlpn, FileSource, IdentityFiles, PeerPolicy, TrustDomain};

const BODY: &str =
    "grant_type=client_credentials&audience=agent-service-a&scope=cross-namespace%3Ainvoke";
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(6);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let trust_domain = TrustDomain::new("demo.test").unwrap();
    dev_pki::ensure(
        &dev_pki::DevPkiConfig::new(&pki, trust_domain.clone()),
        SystemTime::now(),
    )
    .unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("iam.db").display());
    let addr = free_port();
    let mut server = start_server(&pki, &db_url, addr, dir.path());

    let source = FileSource::load(IdentityFiles::in_pki_dir(&pki, AGENT_B.name())).unwrap();
    let mut tls = (*workload_identity::client_config(
        source,
        PeerPolicy::only(INTERNAL_IAM.spiffe_id(&trust_domain)),
        ClientAlpn::Http,
    )
    .unwrap())
    .clone();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tls = Arc::new(tls);

    if !wait_ready(&tls, addr).await {
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
        let _ = server.kill();
        panic!("the server did not become ready:\n{log}");
    }
    // Let start-up allocations settle before reading the idle footprint.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(server.id(), "VmRSS");

    println!("| mode | concurrency | requests | requests/s | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|---|");
    let mut succeeded = 0;
    for connections in [1, 8, 32] {
        let result = load(&tls, addr, connections, Mode::KeepAlive).await;
        succeeded += result.print("kept-alive mTLS", connections);
    }
    for concurrency in [8, 32] {
        let result = load(&tls, addr, concurrency, Mode::HandshakePerRequest).await;
        succeeded += result.print("handshake per request", concurrency);
    }
    let peak_rss = rss_kib(server.id(), "VmHWM");
    println!();
    println!(
        "server idle RSS: {:.1} MiB; peak RSS under load: {:.1} MiB",
        idle_rss as f64 / 1024.0,
        peak_rss as f64 / 1024.0
    );

    stop_server(&mut server);
    let issued = count_issued(&db_url).await;
    println!(
        "audit: {issued} `issued` rows for {succeeded} successful requests (warm-up included){}",
        if issued == succeeded {
            ""
        } else {
            " — MISMATCH"
        }
    );
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    KeepAlive,
    HandshakePerRequest,
}

struct Result {
    /// Latencies of measured requests, in microseconds, sorted.
    latencies: Vec<u32>,
    errors: u64,
    elapsed: Duration,
    /// Every successful request, warm-up included (for the audit check).
    succeeded_total: u64,
}

impl Result {
    fn print(&self, mode: &str, concurrency: usize) -> u64 {
        let count = self.latencies.len();
        let rate = count as f64 / self.elapsed.as_secs_f64();
        let percentile = |p: f64| {
            let index = ((count as f64 * p) as usize).min(count.saturating_sub(1));
            self.latencies.get(index).copied().unwrap_or(0)
        };
        println!(
            "| {mode} | {concurrency} | {count} | {rate:.0} | {:.2} ms | {:.2} ms | {} |",
            f64::from(percentile(0.50)) / 1000.0,
            f64::from(percentile(0.99)) / 1000.0,
            self.errors
        );
        self.succeeded_total
    }
}

/// Runs `concurrency` workers for the warm-up and then the measured period.
async fn load(tls: &Arc<ClientConfig>, addr: SocketAddr, concurrency: usize, mode: Mode) -> Result {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (tls, measuring, stop) = (tls.clone(), measuring.clone(), stop.clone());
            tokio::spawn(async move {
                match mode {
                    Mode::KeepAlive => keep_alive_worker(tls, addr, measuring, stop).await,
                    Mode::HandshakePerRequest => handshake_worker(tls, addr, measuring, stop).await,
                }
            })
        })
        .collect();
    tokio::time::sleep(WARM_UP).await;
    measuring.store(true, Ordering::SeqCst);
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    stop.store(true, Ordering::SeqCst);
    let elapsed = started.elapsed();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut succeeded_total = 0;
    for worker in workers {
        let stats = worker.await.unwrap();
        latencies.extend(stats.latencies);
        errors += stats.errors;
        succeeded_total += stats.succeeded;
    }
    latencies.sort_unstable();
    Result {
        latencies,
        errors,
        elapsed,
        succeeded_total,
    }
}

#[derive(Default)]
struct WorkerStats {
    latencies: Vec<u32>,
    errors: u64,
    succeeded: u64,
}

impl WorkerStats {
    fn record(&mut self, started: Instant, ok: bool, measuring: &AtomicBool) {
        if ok {
            self.succeeded += 1;
        }
        if measuring.load(Ordering::Relaxed) {
            if ok {
                let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                self.latencies.push(micros);
            } else {
                self.errors += 1;
            }
        }
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(tls: &Arc<ClientConfig>, addr: SocketAddr) -> std::io::Result<Sender> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let stream = TlsConnector::from(tls.clone())
        .connect(ServerName::try_from("internal-iam").unwrap(), tcp)
        .await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn issue(sender: &mut Sender, close: bool) -> bool {
    let mut request = Request::post("/token")
        .header("host", "internal-iam")
        .header("content-type", "application/x-www-form-urlencoded");
    if close {
        request = request.header("connection", "close");
    }
    let request = request
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .unwrap();
    if sender.ready().await.is_err() {
        return false;
    }
    match sender.send_request(request).await {
        Ok(response) => {
            let ok = response.status() == 200;
            ok && response.into_body().collect().await.is_ok()
        }
        Err(_) => false,
    }
}

async fn keep_alive_worker(
    tls: Arc<ClientConfig>,
    addr: SocketAddr,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    let mut sender = connect(&tls, addr).await.unwrap();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let ok = issue(&mut sender, false).await;
        stats.record(started, ok, &measuring);
        if !ok {
            sender = connect(&tls, addr).await.unwrap();
        }
    }
    stats
}

async fn handshake_worker(
    tls: Arc<ClientConfig>,
    addr: SocketAddr,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let ok = match connect(&tls, addr).await {
            Ok(mut sender) => issue(&mut sender, true).await,
            Err(_) => false,
        };
        stats.record(started, ok, &measuring);
    }
    stats
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn start_server(pki: &Path, db_url: &str, addr: SocketAddr, dir: &Path) -> Child {
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/policy/internal-iam.toml");
    Command::new(env!("CARGO_BIN_EXE_internal-iam"))
        .arg("serve")
        .env("INTERNAL_IAM_LISTEN", addr.to_string())
        .env("INTERNAL_IAM_PKI_DIR", pki)
        .env("INTERNAL_IAM_DATABASE_URL", db_url)
        .env("INTERNAL_IAM_POLICY", policy)
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

/// Polls `GET /healthz` over mTLS until the server answers; `false` if it never does.
async fn wait_ready(tls: &Arc<ClientConfig>, addr: SocketAddr) -> bool {
    for _ in 0..200 {
        if let Ok(mut sender) = connect(tls, addr).await {
            let request = Request::get("/healthz")
                .header("host", "internal-iam")
                .body(Full::new(Bytes::new()))
                .unwrap();
            if let Ok(response) = sender.send_request(request).await
                && response.status() == 200
            {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// SIGTERM, then wait: the server flushes its audit queue before it exits.
fn stop_server(server: &mut Child) {
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let status = server.wait().unwrap();
    assert!(status.success(), "the server exited with {status}");
}

async fn count_issued(db_url: &str) -> u64 {
    let db = storage::Database::connect(db_url).await.unwrap();
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE outcome = 'issued'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    u64::try_from(count).unwrap()
}
