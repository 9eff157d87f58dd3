//! Load run of chat actions through steps 10–23 against the six real programs (`make bench`).
//!
//! Starts the release build of the six programs with the end-to-end kit (free loopback ports, a
//! fresh dev PKI and databases in a temporary folder), logs alice in once through the real forms,
//! and sends one chat action, which makes Agent B fetch and cache its service token. Then, for
//! each count in `CHAT_LOAD_WORKERS` (default 8, 16, 32), an unmeasured warm-up and a measured load
//! of `CHAT_LOAD_SECONDS` (default 10): that many workers, each posting the chat form back to back
//! with alice's session cookie and CSRF token, as her browser would, and checking only what is
//! cheap: status 200 and her balance in the answer. Every action crosses the web app, Agent B, the
//! internal IAM (token exchange), Agent A and Service A2. Any failed action fails the run.
//!
//! It prints, per load: actions/s, latency percentiles, and each program's CPU time per action
//! (`utime + stime` from `/proc/<pid>/stat`), also the load generator's (it shares the cores) and
//! the rest of the machine's, and the bytes each program logged per action. Then, per program:
//! the time from spawn to its first healthy answer, resident memory (`VmRSS`) idle before any
//! request and idle after the loads, and its peak (`VmHWM`); and the targets against all
//! of it.
//!
//! `make bench` builds the programs first; alone: `cargo build --release --workspace --bins &&
//! cargo bench -p e2e --bench chat_load`. To profile, make a load longer
//! (`CHAT_LOAD_WORKERS=32 CHAT_LOAD_SECONDS=60`) and attach `perf record -p <pid>` with the pids
//! the run prints.

// The report goes to stdout: that is what a bench is run for.
#![allow(clippy::print_stdout)]

use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use e2e::Program;
use e2e::kit::{DemoRecords, TestEnv};
use http::{StatusCode, header};

/// Concurrent workers, each with one action in flight: a comma-separated list runs one measured
/// load per entry, one after the other, against the same system.
const WORKERS_VAR: &str = "CHAT_LOAD_WORKERS";
const DEFAULT_WORKERS: &str = "8,16,32";
/// How long each measured load runs.
const SECONDS_VAR: &str = "CHAT_LOAD_SECONDS";
const DEFAULT_SECONDS: u64 = 10;
/// The unmeasured load before each: connections opened, caches and allocators warm.
const WARM_UP_VAR: &str = "CHAT_LOAD_WARM_UP_SECONDS";
const DEFAULT_WARM_UP: u64 = 2;

/// A question Agent B can only answer with Agent A's help, so it takes every step from 10 to 23.
const MESSAGE: &str = "What is my balance?";
/// The web app's session cookie on a plain-HTTP origin (no `__Host-` prefix there).
const SESSION_COOKIE: &str = "web_session";
/// How long the programs sit untouched before their idle memory is read.
const SETTLE: Duration = Duration::from_secs(2);
/// Lines of each program the kit keeps in memory: the load needs none, and all of them would be
/// hundreds of megabytes.
const KEEP_LINES: usize = 1_000;
/// The kernel reports process CPU times in USER_HZ ticks, 100 per second on every Linux ABI.
const TICK: Duration = Duration::from_millis(10);

/// The targets.
const TARGET_ACTIONS_PER_S: f64 = 1_000.0;
const TARGET_P99: Duration = Duration::from_millis(25);
const TARGET_IDLE_RSS_KIB: u64 = 25 * 1024;
const TARGET_READY: Duration = Duration::from_secs(1);

fn main() -> Result<()> {
    let settings = Settings::from_env()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("the load generator's runtime")?
        .block_on(run(&settings))
}

struct Settings {
    workers: Vec<usize>,
    measure: Duration,
    warm_up: Duration,
}

impl Settings {
    fn from_env() -> Result<Self> {
        let list = std::env::var(WORKERS_VAR).unwrap_or_else(|_| DEFAULT_WORKERS.to_owned());
        let workers = list
            .split(',')
            .map(|count| match count.trim().parse::<usize>() {
                Ok(count) if count > 0 => Ok(count),
                _ => bail!("{WORKERS_VAR}={list:?}: expected counts above 0, like 8,16,32"),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            workers,
            measure: Duration::from_secs(setting(SECONDS_VAR, DEFAULT_SECONDS)?),
            warm_up: Duration::from_secs(setting(WARM_UP_VAR, DEFAULT_WARM_UP)?),
        })
    }
}

async fn run(settings: &Settings) -> Result<()> {
    let env = TestEnv::try_start_keeping(Some(KEEP_LINES)).await.context(
        "the six programs did not start (`make bench` builds them first: \
         cargo build --release --workspace --bins)",
    )?;
    let programs = Programs::of(&env)?;
    println!(
        "chat load: the six programs in {}, state in {}",
        env.stack().binaries.dir().display(),
        env.dir().display()
    );
    println!("pids: {}", programs.pids());

    tokio::time::sleep(SETTLE).await;
    let idle_before = programs.rss()?;

    let browser = env.browser();
    browser.login("alice").await;
    let session = browser
        .cookie(SESSION_COOKIE)
        .context("no session cookie after alice's login")?;
    let csrf = browser
        .chat_page()
        .await
        .input("csrf_token")
        .context("no CSRF token on the chat page")?;
    let action = Arc::new(ChatAction::new(
        &env.web_url("/chat"),
        &session,
        &csrf,
        &DemoRecords::shipped().account_of("alice").balance(),
    )?);
    // The first action fetches Agent B's service token; every later one finds it cached.
    if let Err(error) = action.send().await.outcome {
        bail!("the first chat action failed: {error}");
    }

    let mut phases = Vec::new();
    for &workers in &settings.workers {
        load(&action, workers, settings.warm_up)
            .await
            .fail_on_errors()?;
        let phase = Phase::measure(&env, &programs, &action, workers, settings.measure).await?;
        println!("{}", phase.render(&programs));
        phase.result.fail_on_errors()?;
        phases.push(phase);
    }

    tokio::time::sleep(SETTLE).await;
    let memory = Memory {
        idle_before,
        idle_after: programs.rss()?,
        peak: programs.peak_rss()?,
    };
    println!("{}", memory.render(&programs));
    println!("{}", targets(&phases, &memory, &programs));
    env.shutdown().await;
    Ok(())
}

/// A whole number from the environment, or `default` when unset.
fn setting<T: FromStr>(name: &str, default: T) -> Result<T> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .ok()
            .with_context(|| format!("{name}={value:?} is not a whole number")),
        Err(_) => Ok(default),
    }
}

/// One chat action, prepared once: the form body and the cookie do not change between actions.
#[derive(Debug)]
struct ChatAction {
    http: reqwest::Client,
    url: String,
    cookie: String,
    /// Shared by every request without a copy.
    body: bytes::Bytes,
    expected: String,
}

/// What one action took, and whether it succeeded.
struct Sample {
    latency: Duration,
    outcome: std::result::Result<(), String>,
}

impl ChatAction {
    fn new(url: &str, session: &str, csrf: &str, expected: &str) -> Result<Self> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf_token", csrf)
            .append_pair("message", MESSAGE)
            .finish();
        Ok(Self {
            // One pool for all workers, one keep-alive connection per action in flight, as
            // that many browsers would hold.
            http: e2e::http_client(Duration::from_secs(60)).context("the load's HTTP client")?,
            url: url.to_owned(),
            cookie: format!("{SESSION_COOKIE}={session}"),
            body: bytes::Bytes::from(body),
            expected: expected.to_owned(),
        })
    }

    async fn send(&self) -> Sample {
        let started = Instant::now();
        let outcome = self.attempt().await;
        Sample {
            latency: started.elapsed(),
            outcome,
        }
    }

    async fn attempt(&self) -> std::result::Result<(), String> {
        let response = self
            .http
            .post(&self.url)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(self.body.clone())
            .send()
            .await
            .map_err(|error| format!("request failed: {error}"))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| format!("reading the answer failed: {error}"))?;
        // Validation only, no copy: the web app's pages are UTF-8.
        let Ok(text) = std::str::from_utf8(&body) else {
            return Err(format!("{status}: an answer that is not UTF-8"));
        };
        if status != StatusCode::OK {
            return Err(format!("{status}: {}", excerpt(text)));
        }
        // Thousands separators are presentation (`1,842.50 EUR`); the amounts are the records.
        if !text.replace(',', "").contains(&self.expected) {
            return Err(format!(
                "200 without alice's balance {}: {}",
                self.expected,
                excerpt(text)
            ));
        }
        Ok(())
    }
}

/// The start of a page, enough to see what it says.
fn excerpt(text: &str) -> String {
    text.chars().take(600).collect()
}

/// Everything one load phase measured.
struct LoadResult {
    /// Successful actions' latencies, sorted.
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    elapsed: Duration,
}

impl LoadResult {
    fn actions(&self) -> usize {
        self.latencies.len() + self.errors
    }

    fn per_second(&self) -> f64 {
        self.actions() as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `quantile` of the actions finished (nearest rank).
    fn percentile(&self, quantile: f64) -> Duration {
        let n = self.latencies.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((quantile * n as f64).ceil() as usize).clamp(1, n);
        self.latencies[rank - 1]
    }

    fn fail_on_errors(&self) -> Result<()> {
        if self.errors == 0 {
            return Ok(());
        }
        bail!(
            "{} of {} chat actions failed; the first: {}",
            self.errors,
            self.actions(),
            self.first_error.as_deref().unwrap_or("(no detail)")
        )
    }
}

/// `workers` loops posting the action back to back for `duration`; an action started before the
/// end is waited for and counted.
async fn load(action: &Arc<ChatAction>, workers: usize, duration: Duration) -> LoadResult {
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let action = Arc::clone(action);
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while Instant::now() < until {
                    samples.push(action.send().await);
                }
                samples
            })
        })
        .collect();
    let mut result = LoadResult {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let samples = match task.await {
            Ok(samples) => samples,
            Err(error) => {
                result.errors += 1;
                result
                    .first_error
                    .get_or_insert_with(|| format!("a worker panicked: {error}"));
                continue;
            }
        };
        for sample in samples {
            match sample.outcome {
                Ok(()) => result.latencies.push(sample.latency),
                Err(error) => {
                    result.errors += 1;
                    result.first_error.get_or_insert(error);
                }
            }
        }
    }
    result.elapsed = started.elapsed();
    result.latencies.sort_unstable();
    result
}

/// The six programs' processes (in [`Program::ALL`]'s order) and how long each took to start.
struct Programs {
    pids: Vec<(Program, u32)>,
    ready: Vec<Duration>,
    /// From the first spawn to the last first-healthy answer.
    all_ready: Duration,
}

impl Programs {
    fn of(env: &TestEnv) -> Result<Self> {
        let system = env.system();
        let mut pids = Vec::new();
        let mut ready = Vec::new();
        let (mut first_spawn, mut last_healthy) = (None::<Instant>, None::<Instant>);
        for program in Program::ALL {
            let pid = system
                .pid(program)
                .with_context(|| format!("{} is not running", program.name()))?;
            let readiness = system
                .readiness(program)
                .with_context(|| format!("{} is not running", program.name()))?;
            let (Some(healthy), Some(time_to_healthy)) =
                (readiness.healthy, readiness.time_to_healthy())
            else {
                bail!("{} was never seen healthy", program.name());
            };
            pids.push((program, pid));
            ready.push(time_to_healthy);
            first_spawn =
                Some(first_spawn.map_or(readiness.spawned, |at| at.min(readiness.spawned)));
            last_healthy = Some(last_healthy.map_or(healthy, |at| at.max(healthy)));
        }
        let all_ready = match (first_spawn, last_healthy) {
            (Some(first), Some(last)) => last.saturating_duration_since(first),
            _ => Duration::ZERO,
        };
        Ok(Self {
            pids,
            ready,
            all_ready,
        })
    }

    fn pids(&self) -> String {
        self.pids
            .iter()
            .map(|(program, pid)| format!("{}={pid}", program.name()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `VmRSS` of each program, KiB.
    fn rss(&self) -> Result<Vec<u64>> {
        self.status_field("VmRSS:")
    }

    /// `VmHWM` (peak resident set) of each program, KiB.
    fn peak_rss(&self) -> Result<Vec<u64>> {
        self.status_field("VmHWM:")
    }

    fn status_field(&self, field: &str) -> Result<Vec<u64>> {
        self.pids
            .iter()
            .map(|(program, pid)| {
                status_kib(&format!("/proc/{pid}/status"), field)
                    .with_context(|| format!("{field} of {}", program.name()))
            })
            .collect()
    }

    /// How much each program has logged so far (stdout and stderr, in the kit's log files), bytes.
    fn log_bytes(&self, env: &TestEnv) -> Result<Vec<u64>> {
        self.pids
            .iter()
            .map(|(program, _)| {
                let file = env.stack().log_file(*program);
                std::fs::metadata(&file)
                    .map(|metadata| metadata.len())
                    .with_context(|| format!("reading {}", file.display()))
            })
            .collect()
    }

    /// CPU time of each program, then of this process (the load generator).
    fn cpu(&self) -> Result<Vec<Duration>> {
        self.pids
            .iter()
            .map(|(_, pid)| format!("/proc/{pid}/stat"))
            .chain(std::iter::once("/proc/self/stat".to_owned()))
            .map(|path| process_cpu(&path))
            .collect()
    }
}

/// A `kB` line of `/proc/<pid>/status`.
fn status_kib(path: &str, field: &str) -> Result<u64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .with_context(|| format!("no {field} in {path}"))
}

/// `utime + stime` of a process, all its threads, from `/proc/<pid>/stat`.
fn process_cpu(path: &str) -> Result<Duration> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) is in parentheses and may hold spaces; count after it. The
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let rest = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .with_context(|| format!("unexpected {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |at: usize| -> Result<u32> {
        fields
            .get(at)
            .and_then(|field| field.parse().ok())
            .with_context(|| format!("unexpected {path}"))
    };
    Ok(TICK * (ticks(11)? + ticks(12)?))
}

/// CPU time the whole machine spent busy (every core, every process), from `/proc/stat`.
fn machine_busy() -> Result<Duration> {
    let text = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let total = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .context("no cpu line in /proc/stat")?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let ticks: Vec<u64> = total
        .split_whitespace()
        .take(8)
        .filter_map(|field| field.parse().ok())
        .collect();
    ensure!(ticks.len() == 8, "unexpected /proc/stat");
    let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7];
    Ok(Duration::from_millis(busy * 10))
}

/// The 1-minute load average (it includes work outside this run: the machine may be shared).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// One measured load at a given concurrency.
struct Phase {
    workers: usize,
    result: LoadResult,
    /// Each program's CPU time during the load, then the load generator's.
    cpu: Vec<Duration>,
    /// The whole machine's busy CPU time in the same window.
    machine_busy: Duration,
    /// Bytes each program logged during the load.
    logged: Vec<u64>,
    /// The 1-minute load average before and after.
    load: (String, String),
}

impl Phase {
    async fn measure(
        env: &TestEnv,
        programs: &Programs,
        action: &Arc<ChatAction>,
        workers: usize,
        duration: Duration,
    ) -> Result<Self> {
        let load_before = loadavg();
        let logs_before = programs.log_bytes(env)?;
        let cpu_before = programs.cpu()?;
        let machine_before = machine_busy()?;
        let result = load(action, workers, duration).await;
        let machine_after = machine_busy()?;
        let cpu_after = programs.cpu()?;
        let logs_after = programs.log_bytes(env)?;
        Ok(Self {
            workers,
            result,
            cpu: differences(&cpu_before, &cpu_after, Duration::saturating_sub),
            machine_busy: machine_after.saturating_sub(machine_before),
            logged: differences(&logs_before, &logs_after, u64::saturating_sub),
            load: (load_before, loadavg()),
        })
    }

    fn render(&self, programs: &Programs) -> String {
        let result = &self.result;
        let actions = result.actions().max(1) as f64;
        let per_action = |cpu: Duration| cpu.as_secs_f64() * 1e3 / actions;
        let of_a_core = |cpu: Duration| 100.0 * cpu.as_secs_f64() / result.elapsed.as_secs_f64();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{} workers, {:.1} s: {} actions ({} failed), {:.0} actions/s",
            self.workers,
            result.elapsed.as_secs_f64(),
            result.actions(),
            result.errors,
            result.per_second()
        );
        let _ = writeln!(
            out,
            "latency ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
            ms(result.percentile(0.50)),
            ms(result.percentile(0.90)),
            ms(result.percentile(0.99)),
            ms(result.latencies.last().copied().unwrap_or_default())
        );
        let _ = writeln!(
            out,
            "load average (1 min): {} before, {} after",
            self.load.0, self.load.1
        );
        let _ = writeln!(
            out,
            "{:<18} {:>13} {:>11} {:>13}",
            "CPU", "ms per action", "% of a core", "log B/action"
        );
        for (at, (program, _)) in programs.pids.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:<18} {:>13.3} {:>11.0} {:>13.0}",
                program.name(),
                per_action(self.cpu[at]),
                of_a_core(self.cpu[at]),
                self.logged[at] as f64 / actions
            );
        }
        let generator = self.cpu.last().copied().unwrap_or_default();
        let ours: Duration = self.cpu.iter().sum();
        let rows = [
            ("load generator", generator),
            ("all of the above", ours),
            ("rest of machine", self.machine_busy.saturating_sub(ours)),
        ];
        for (name, cpu) in rows {
            let _ = writeln!(
                out,
                "{name:<18} {:>13.3} {:>11.0}",
                per_action(cpu),
                of_a_core(cpu)
            );
        }
        out
    }
}

/// `after - before`, entry by entry (a counter never goes back; saturating all the same).
fn differences<T: Copy>(before: &[T], after: &[T], minus: fn(T, T) -> T) -> Vec<T> {
    before
        .iter()
        .zip(after)
        .map(|(before, after)| minus(*after, *before))
        .collect()
}

/// Resident memory per program, KiB.
struct Memory {
    /// Before any request.
    idle_before: Vec<u64>,
    /// After the login and the loads, idle again.
    idle_after: Vec<u64>,
    /// The most it ever held (`VmHWM`).
    peak: Vec<u64>,
}

impl Memory {
    fn render(&self, programs: &Programs) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<18} {:>13} {:>16} {:>15} {:>9}",
            "program", "ready ms", "idle MiB, start", "idle MiB, after", "peak MiB"
        );
        for (at, (program, _)) in programs.pids.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:<18} {:>13.0} {:>16.1} {:>15.1} {:>9.1}",
                program.name(),
                ms(programs.ready[at]),
                mib(self.idle_before[at]),
                mib(self.idle_after[at]),
                mib(self.peak[at])
            );
        }
        let _ = write!(
            out,
            "all six ready {:.0} ms after the first spawn (the token issuers first, then the rest)",
            ms(programs.all_ready)
        );
        out
    }
}

/// The targets against the figures: throughput and p99 must hold together, in one load.
fn targets(phases: &[Phase], memory: &Memory, programs: &Programs) -> String {
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let fastest = phases
        .iter()
        .map(|phase| phase.result.per_second())
        .fold(0.0, f64::max);
    let both = phases.iter().any(|phase| {
        phase.result.per_second() >= TARGET_ACTIONS_PER_S
            && phase.result.percentile(0.99) <= TARGET_P99
    });
    let lowest_p99 = phases
        .iter()
        .map(|phase| phase.result.percentile(0.99))
        .min()
        .unwrap_or_default();
    let largest = |kib: &[u64]| kib.iter().max().copied().unwrap_or_default();
    let mut out = String::from("targets:\n");
    let _ = writeln!(
        out,
        "  >= {TARGET_ACTIONS_PER_S:.0} actions/s with p99 <= {} ms in the same load: {} \
         (most actions/s {fastest:.0}; lowest p99 {:.1} ms)",
        TARGET_P99.as_millis(),
        verdict(both),
        ms(lowest_p99)
    );
    for (when, kib) in [
        ("at start", &memory.idle_before),
        ("after the load", &memory.idle_after),
    ] {
        let _ = writeln!(
            out,
            "  idle RSS <= {} MiB each, {when}: largest {:.1} MiB ({})",
            TARGET_IDLE_RSS_KIB / 1024,
            mib(largest(kib)),
            verdict(largest(kib) <= TARGET_IDLE_RSS_KIB)
        );
    }
    let _ = write!(
        out,
        "  all six ready <= {} ms: {:.0} ms ({})",
        TARGET_READY.as_millis(),
        ms(programs.all_ready),
        verdict(programs.all_ready <= TARGET_READY)
    );
    out
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
