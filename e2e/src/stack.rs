//! The description of one system: ports, state folder, trust domain, logging, and the URLs the
//! six programs are told about each other. Everything the launcher does follows from it.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use external_iam::admin::demo;
use telemetry::LogFormat;
use wire::Program;
use workload_identity::TrustDomain;

use crate::binaries::Binaries;
use crate::ports::Ports;

/// Read by Tokio's multi-threaded runtime when the program does not set a count itself.
pub(crate) const TOKIO_WORKER_THREADS: &str = "TOKIO_WORKER_THREADS";
/// glibc's tunable of the size from which an allocation gets its own mapping.
pub(crate) const MALLOC_MMAP_THRESHOLD: &str = "MALLOC_MMAP_THRESHOLD_";

/// Everything needed to start the six programs.
///
/// The state folder holds, for each run: `pki/` (the dev PKI), `<program>/<program>.db` (each
/// program's SQLite file: with the state folder `var/` these are the programs' own defaults, so
/// the operator commands such as `external-iam totp now` find them without flags),
/// `web-app/client-secret` and `logs/<program>.log`.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Where the programs listen (all on 127.0.0.1).
    pub ports: Ports,
    /// The host in the URLs the browser and the tokens see: the web app's public URL, the
    /// external IAM's issuer, the internal IAM's issuer. `localhost` for the demo (the
    /// programs' defaults), `127.0.0.1` in tests (no name lookup). Calls between programs
    /// always dial 127.0.0.1.
    pub public_host: String,
    /// The state folder (made absolute on start).
    pub state_dir: PathBuf,
    /// The SPIFFE trust domain; `infra/policy/internal-iam.toml` names `demo.test` identities.
    pub trust_domain: TrustDomain,
    /// The programs' log format (`LOG_FORMAT`): JSON in tests, so step events can be read back.
    pub log_format: LogFormat,
    /// Echo every program's lines to stdout with a `program      | ` prefix (the demo).
    pub echo: bool,
    /// How many lines of each program to keep in memory (`None`: all; tests read them all).
    pub keep_lines: Option<usize>,
    /// Tokio worker threads per program (`TOKIO_WORKER_THREADS`; `None`: Tokio's default, one
    /// per core). All six share this machine, so one each is the default: with one per core
    /// each, twelve workers on two cores hand every request between threads and preempt one
    /// another, and the end-to-end load run measured about 15 % fewer actions per second.
    pub worker_threads: Option<NonZeroUsize>,
    /// Where the executables are.
    pub binaries: Binaries,
    /// The internal IAM's registration policy (`--policy`).
    pub policy: PathBuf,
    /// Service A2's demo records (`--seed`).
    pub service_a2_seed: PathBuf,
    /// How long the programs of each start stage (the two issuers, then the other four) may
    /// take to become healthy.
    pub health_timeout: Duration,
    /// How long a program may take to stop after SIGTERM before it is killed.
    pub stop_grace: Duration,
}

impl Stack {
    /// A stack on `ports` with its state in `state_dir`, the shipped configuration files read
    /// from `infra_dir` (the repository's `infra/`), executables from `binaries`, trust domain
    /// `demo.test`, human logs kept whole and not echoed.
    pub fn new(
        ports: Ports,
        state_dir: impl Into<PathBuf>,
        infra_dir: &Path,
        binaries: Binaries,
    ) -> Self {
        Self {
            ports,
            public_host: "localhost".to_owned(),
            state_dir: state_dir.into(),
            trust_domain: dev_trust_domain(),
            log_format: LogFormat::Human,
            echo: false,
            keep_lines: None,
            worker_threads: Some(NonZeroUsize::MIN),
            binaries,
            policy: infra_dir.join("policy/internal-iam.toml"),
            service_a2_seed: infra_dir.join("data/service-a2.toml"),
            health_timeout: Duration::from_secs(60),
            stop_grace: Duration::from_secs(10),
        }
    }

    /// The dev PKI folder.
    pub fn pki_dir(&self) -> PathBuf {
        self.state_dir.join("pki")
    }

    /// `program`'s SQLite file.
    pub fn database_file(&self, program: Program) -> PathBuf {
        self.state_dir
            .join(program.name())
            .join(format!("{}.db", program.name()))
    }

    /// `program`'s database URL (an absolute path gives `sqlite:///…`).
    pub fn database_url(&self, program: Program) -> String {
        format!("sqlite://{}", self.database_file(program).display())
    }

    /// The file every line `program` writes is appended to.
    pub fn log_file(&self, program: Program) -> PathBuf {
        self.state_dir
            .join("logs")
            .join(format!("{}.log", program.name()))
    }

    /// The file holding the web app's client secret (mode 0600).
    pub fn client_secret_file(&self) -> PathBuf {
        self.state_dir.join("web-app").join("client-secret")
    }

    /// The web app's origin, as the browser sees it: `http://<host>:<port>`.
    pub fn web_url(&self) -> String {
        format!("http://{}:{}", self.public_host, self.ports.web_app)
    }

    /// The external IAM's issuer identifier (also its origin for the browser).
    pub fn issuer(&self) -> String {
        format!("http://{}:{}", self.public_host, self.ports.external_iam)
    }

    /// The web app's registered redirect URI.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.web_url())
    }

    /// The web app's registered post-logout redirect URI.
    pub fn post_logout_uri(&self) -> String {
        format!("{}/", self.web_url())
    }

    /// The internal IAM's issuer identifier (`iss` of service and transaction tokens). An
    /// identifier, not dialled: the JWKS and token URLs below are.
    pub fn internal_issuer(&self) -> String {
        format!("https://{}:{}", self.public_host, self.ports.internal_iam)
    }

    /// Agent B's API identifier: the audience of the customer's access token.
    pub fn agent_b_resource(&self) -> &'static str {
        demo::AGENT_B_RESOURCE
    }

    /// Agent B's chat endpoint, which is also the `htu` of the web app's DPoP proofs.
    pub fn agent_b_chat_url(&self) -> String {
        format!("{}/v1/chat", self.agent_b_origin())
    }

    fn agent_b_origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.ports.agent_b)
    }

    /// `program`'s health endpoint.
    pub fn health_url(&self, program: Program) -> String {
        format!("http://127.0.0.1:{}/healthz", self.ports.health(program))
    }

    fn listen(port: u16) -> String {
        format!("127.0.0.1:{port}")
    }

    /// The environment variables that tune `program`'s process (not its configuration, which
    /// [`Stack::serve_args`] gives): the runtime's worker count, and for the external IAM the
    /// C allocator's mmap threshold. The launcher removes inherited copies of these names.
    pub fn serve_env(&self, program: Program) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        if let Some(threads) = self.worker_threads {
            env.push((TOKIO_WORKER_THREADS, threads.to_string()));
        }
        if program == Program::ExternalIam {
            // Each password check fills 19 MiB of argon2 memory, which glibc maps fresh and
            // unmaps when freed, but then raises its mmap threshold to that size: the next
            // check's memory comes from the heap and stays resident (about 30 MiB idle after one
            // login, against 11 MiB before). A fixed threshold (glibc's default value, 128 KiB)
            // turns the dynamic raise off. Other allocators ignore the variable.
            env.push((MALLOC_MMAP_THRESHOLD, (128 * 1024).to_string()));
        }
        env
    }

    /// The command-line arguments that start `program` as this stack describes. Flags, not
    /// environment variables, so `ps` shows how each program was started; the launcher removes
    /// inherited `<PROGRAM>_*` variables, so nothing else configures them.
    pub fn serve_args(&self, program: Program) -> Vec<String> {
        let ports = &self.ports;
        let pki = self.pki_dir().display().to_string();
        let trust_domain = self.trust_domain.to_string();
        let external_jwks = format!("http://127.0.0.1:{}/jwks", ports.external_iam);
        let internal_jwks = format!("https://127.0.0.1:{}/jwks.json", ports.internal_iam);
        let mut args: Vec<String> = Vec::new();
        let mut flag = |name: &str, value: String| {
            args.push(format!("--{name}"));
            args.push(value);
        };
        match program {
            // `serve` takes no flags of its own: the server's options are the top-level ones.
            Program::ExternalIam => {
                flag("listen", Self::listen(ports.external_iam));
                flag("issuer", self.issuer());
                flag("database-url", self.database_url(program));
            }
            Program::InternalIam => {
                flag("listen", Self::listen(ports.internal_iam));
                flag("health-listen", Self::listen(ports.internal_iam_health));
                flag("issuer", self.internal_issuer());
                flag("trust-domain", trust_domain);
                flag("pki-dir", pki);
                flag("database-url", self.database_url(program));
                flag("policy", self.policy.display().to_string());
                flag("external-issuer", self.issuer());
                flag("external-jwks-uri", external_jwks);
            }
            Program::ServiceA2 => {
                flag("listen", Self::listen(ports.service_a2));
                flag("health-listen", Self::listen(ports.service_a2_health));
                flag("trust-domain", trust_domain);
                flag("pki-dir", pki);
                flag("iam-issuer", self.internal_issuer());
                flag("iam-jwks-uri", internal_jwks);
                flag("database-url", self.database_url(program));
                flag("seed", self.service_a2_seed.display().to_string());
            }
            Program::AgentA => {
                flag("listen", Self::listen(ports.agent_a));
                flag("health-listen", Self::listen(ports.agent_a_health));
                flag("trust-domain", trust_domain);
                flag("pki-dir", pki);
                flag("iam-issuer", self.internal_issuer());
                flag("iam-jwks-uri", internal_jwks);
                flag(
                    "service-a2-url",
                    format!("https://127.0.0.1:{}", ports.service_a2),
                );
                flag("database-url", self.database_url(program));
            }
            Program::AgentB => {
                flag("listen", Self::listen(ports.agent_b));
                flag("health-listen", Self::listen(ports.agent_b_health));
                // The origin the web app dials, so its proofs' `htu` matches.
                flag("public-url", self.agent_b_origin());
                flag("trust-domain", trust_domain);
                flag("pki-dir", pki);
                flag("external-issuer", self.issuer());
                flag("external-jwks-uri", external_jwks);
                flag("resource", self.agent_b_resource().to_owned());
                flag(
                    "iam-token-url",
                    format!("https://127.0.0.1:{}/token", ports.internal_iam),
                );
                flag(
                    "agent-a-url",
                    format!("https://127.0.0.1:{}", ports.agent_a),
                );
            }
            Program::WebApp => {
                flag("listen", Self::listen(ports.web_app));
                flag("public-url", self.web_url());
                flag("issuer", self.issuer());
                flag("client-id", demo::WEB_APP_CLIENT_ID.to_owned());
                flag(
                    "client-secret-file",
                    self.client_secret_file().display().to_string(),
                );
                flag("redirect-uri", self.redirect_uri());
                flag("post-logout-redirect-uri", self.post_logout_uri());
                flag("resource", self.agent_b_resource().to_owned());
                flag("agent-b-url", self.agent_b_chat_url());
                flag("trust-domain", trust_domain);
                flag("pki-dir", pki);
                flag("database-url", self.database_url(program));
            }
        }
        // The three mesh workloads size their runtime by flag; the other three leave it to
        // Tokio, which reads `TOKIO_WORKER_THREADS` (see `Stack::serve_env`).
        if let Some(threads) = self.worker_threads
            && matches!(
                program,
                Program::AgentA | Program::AgentB | Program::ServiceA2
            )
        {
            flag("worker-threads", threads.to_string());
        }
        if program == Program::InternalIam {
            args.insert(0, "serve".to_owned());
        }
        args
    }

    /// The prefix of the environment variables `program` reads (`AGENT_A_LISTEN`, ...).
    pub fn env_prefix(program: Program) -> String {
        format!("{}_", program.name().to_uppercase().replace('-', "_"))
    }
}

/// `demo.test`.
pub fn dev_trust_domain() -> TrustDomain {
    match TrustDomain::new(workload_identity::workloads::DEV_TRUST_DOMAIN) {
        Ok(trust_domain) => trust_domain,
        // A constant of the workload-identity crate, tested there.
        Err(error) => unreachable!("the dev trust domain is valid: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        Stack::new(
            Ports::DEMO,
            "/state",
            Path::new("/repo/infra"),
            Binaries::in_dir("/bin"),
        )
    }

    fn value_of<'a>(args: &'a [String], flag: &str) -> &'a str {
        let at = args.iter().position(|a| a == flag).unwrap();
        &args[at + 1]
    }

    #[test]
    fn the_demo_stack_matches_the_programs_defaults() {
        let stack = stack();
        assert_eq!(stack.web_url(), "http://localhost:8080");
        assert_eq!(stack.issuer(), "http://localhost:9000");
        assert_eq!(stack.redirect_uri(), demo::WEB_APP_REDIRECT_URI);
        assert_eq!(stack.post_logout_uri(), demo::WEB_APP_POST_LOGOUT_URI);
        assert_eq!(stack.internal_issuer(), "https://localhost:8443");
        assert_eq!(
            stack.database_url(Program::ExternalIam),
            "sqlite:///state/external-iam/external-iam.db"
        );
    }

    #[test]
    fn programs_point_at_each_other() {
        let mut stack = stack();
        stack.ports = Ports::free().unwrap();
        stack.public_host = "127.0.0.1".to_owned();
        let ports = stack.ports;

        let web = stack.serve_args(Program::WebApp);
        let agent_b = stack.serve_args(Program::AgentB);
        // The web app dials Agent B where it listens, and Agent B expects proofs for that URL.
        assert_eq!(
            value_of(&web, "--agent-b-url"),
            format!(
                "{}/v1/chat",
                value_of(&agent_b, "--public-url").trim_end_matches('/')
            )
        );
        assert_eq!(
            value_of(&agent_b, "--listen"),
            format!("127.0.0.1:{}", ports.agent_b)
        );
        assert_eq!(
            value_of(&agent_b, "--agent-a-url"),
            format!("https://127.0.0.1:{}", ports.agent_a)
        );
        // Everyone agrees on both issuers.
        let iam = stack.serve_args(Program::InternalIam);
        assert_eq!(iam[0], "serve");
        for (args, flag) in [
            (&web, "--issuer"),
            (&agent_b, "--external-issuer"),
            (&iam, "--external-issuer"),
        ] {
            assert_eq!(
                value_of(args, flag),
                format!("http://127.0.0.1:{}", ports.external_iam)
            );
        }
        for program in [Program::AgentA, Program::ServiceA2] {
            let args = stack.serve_args(program);
            assert_eq!(value_of(&args, "--iam-issuer"), value_of(&iam, "--issuer"));
            assert_eq!(
                value_of(&args, "--health-listen"),
                format!("127.0.0.1:{}", ports.health(program))
            );
        }
        assert_eq!(
            value_of(&stack.serve_args(Program::ExternalIam), "--listen"),
            format!("127.0.0.1:{}", ports.external_iam)
        );
    }

    #[test]
    fn env_prefixes() {
        assert_eq!(Stack::env_prefix(Program::ServiceA2), "SERVICE_A2_");
        assert_eq!(Stack::env_prefix(Program::ExternalIam), "EXTERNAL_IAM_");
    }
}
