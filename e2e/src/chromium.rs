//! Debian's Chromium, driven through Debian's ChromeDriver, for the browser walkthrough.
//!
//! Both come from the distribution's packages (`chromium`, `chromium-driver`), which
//! `make setup` installs: nothing is downloaded at test time, and a missing one is an error that
//! says so, never a skipped test. [`ChromeDriver::start`] runs the driver on a free loopback
//! port with a fresh, empty Chromium profile; [`ChromeDriver::chromium_args`] are the flags that
//! keep Chromium headless and off the network. Dropping the driver kills it and whatever it
//! started, and removes the profile.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};
use tempfile::TempDir;

/// How long ChromeDriver may take to answer `/status` as ready, on a loaded machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How often `/status` is asked meanwhile.
const POLL: Duration = Duration::from_millis(100);
/// Free ports are chosen, then bound by ChromeDriver: another process may take one in between.
const ATTEMPTS: usize = 3;

/// Flags for a browser that runs unattended and talks to nothing but the pages it is sent to:
/// no first-run dialogs, no background requests (updates, sync, safe-browsing lists), no proxy
/// from the environment, every host name but loopback resolving to nothing; and screenshots
/// without scrollbars.
const FLAGS: [&str; 15] = [
    "--headless",
    // Chromium's sandbox refuses to run as root, which CI is; the pages are this project's own,
    // served on loopback.
    "--no-sandbox",
    "--disable-gpu",
    // Containers often have a small /dev/shm; Chromium then uses /tmp instead.
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--hide-scrollbars",
];

/// Why the browser could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ChromeError {
    #[error(
        "`{program}` was not found on PATH: the browser test drives Debian's Chromium through \
         its ChromeDriver; run `make setup`, which installs the `chromium` and `chromium-driver` \
         packages"
    )]
    Missing { program: &'static str },
    #[error("cannot {what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("chromedriver exited ({status}) before it was ready; it said:\n{output}")]
    Exited { status: String, output: String },
    #[error("chromedriver did not report ready within {timeout:?}; it said:\n{output}")]
    NotReady { timeout: Duration, output: String },
}

/// A running ChromeDriver and the empty profile its Chromium uses.
#[derive(Debug)]
pub struct ChromeDriver {
    // Declared first, dropped first: the browser is gone before its profile folder is removed.
    process: Process,
    url: String,
    chromium: PathBuf,
    profile: TempDir,
}

impl ChromeDriver {
    /// Starts `chromedriver` on a free port of 127.0.0.1 (it accepts local connections only)
    /// and waits until its `/status` says it is ready.
    pub async fn start() -> Result<Self, ChromeError> {
        let chromium = find_on_path("chromium")?;
        let chromedriver = find_on_path("chromedriver")?;
        let profile = tempfile::Builder::new()
            .prefix("chromium-profile-")
            .tempdir()
            .map_err(|source| ChromeError::Io {
                what: "create a profile folder",
                source,
            })?;
        let mut attempt = 1;
        loop {
            let (mut process, url) = Process::spawn(&chromedriver)?;
            match process.wait_ready(&url).await {
                Ok(()) => {
                    return Ok(Self {
                        process,
                        url,
                        chromium,
                        profile,
                    });
                }
                // Exiting at once is what a port taken in the meantime looks like; the failed
                // attempt's process is killed as it goes out of scope.
                Err(ChromeError::Exited { .. }) if attempt < ATTEMPTS => attempt += 1,
                Err(error) => return Err(error),
            }
        }
    }

    /// The WebDriver endpoint, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The Chromium executable the session should run.
    pub fn chromium(&self) -> &Path {
        &self.chromium
    }

    /// The command-line flags for Chromium: headless, off the network, this driver's fresh
    /// profile, and a window of `width` × `height` pixels.
    pub fn chromium_args(&self, width: u32, height: u32) -> Vec<String> {
        FLAGS
            .iter()
            .map(|flag| (*flag).to_owned())
            .chain([
                format!("--user-data-dir={}", self.profile.path().display()),
                format!("--window-size={width},{height}"),
            ])
            .collect()
    }

    /// What ChromeDriver printed so far.
    pub fn output(&self) -> String {
        self.process.output()
    }
}

/// The chromedriver process, leading its own process group; killed with everything it
/// started when dropped.
#[derive(Debug)]
struct Process {
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Spawns `chromedriver` on a port that was free a moment ago; its output is kept for
    /// errors. Returns it with its URL.
    fn spawn(chromedriver: &Path) -> Result<(Self, String), ChromeError> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .map_err(|source| ChromeError::Io {
                what: "find a free port",
                source,
            })?
            .port();
        let mut child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|source| ChromeError::Io {
                what: "start chromedriver",
                source,
            })?;
        let output = Arc::new(Mutex::new(Vec::new()));
        if let Some(stdout) = child.stdout.take() {
            drain(stdout, &output);
        }
        if let Some(stderr) = child.stderr.take() {
            drain(stderr, &output);
        }
        Ok((Self { child, output }, format!("http://127.0.0.1:{port}")))
    }

    /// Polls `<url>/status` until the driver says it is ready, it exits, or time is up.
    async fn wait_ready(&mut self, url: &str) -> Result<(), ChromeError> {
        let client = crate::http_client(POLL * 10).map_err(|error| ChromeError::Io {
            what: "build an HTTP client",
            source: std::io::Error::other(error),
        })?;
        let status_url = format!("{url}/status");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(ChromeError::Exited {
                    status: status.to_string(),
                    output: self.output(),
                });
            }
            if let Ok(response) = client.get(&status_url).send().await
                && let Ok(body) = response.json::<serde_json::Value>().await
                && body["value"]["ready"] == serde_json::Value::Bool(true)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ChromeError::NotReady {
                    timeout: READY_TIMEOUT,
                    output: self.output(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // The Chromium processes the driver started are in its process group: one signal ends
        // them all, also when a failing test never closed its session. ESRCH (all gone
        // already) is the only expected failure.
        let _ = kill_process_group(Pid::from_child(&self.child), Signal::KILL);
        let _ = self.child.wait();
    }
}

/// Reads `stream` line by line into `output` on a thread of its own, so the driver never
/// blocks on a full pipe.
fn drain(stream: impl Read + Send + 'static, output: &Arc<Mutex<Vec<String>>>) {
    let output = Arc::clone(output);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            output
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
    });
}

/// `program` in a directory of `PATH`.
fn find_on_path(program: &'static str) -> Result<PathBuf, ChromeError> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or(ChromeError::Missing { program })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let error = find_on_path("no-such-browser-anywhere").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`no-such-browser-anywhere` was not found on PATH"));
        assert!(message.contains("run `make setup`"), "{message}");
    }
}
