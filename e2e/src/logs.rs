//! Every line a program writes: kept in memory (for tests and for the error that names a program
//! that died), appended to its log file, and optionally echoed with a per-program prefix.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use wire::Program;

/// Width of the echo prefix: the longest program name (`external-iam`).
const PREFIX_WIDTH: usize = 12;

/// The lines of one program, across its restarts.
#[derive(Debug)]
pub struct ProgramLog {
    program: Program,
    lines: Mutex<VecDeque<String>>,
    keep: Option<usize>,
    /// Buffered: under load a program writes many lines per read, and one write per line
    /// would cost more than the program's own logging. [`ProgramLog::drain`] flushes whenever
    /// it has caught up, so the file is current whenever the program is quiet.
    file: Mutex<BufWriter<File>>,
    echo: bool,
}

impl ProgramLog {
    /// A log for `program` appending to `file` (created if missing), keeping the last `keep`
    /// lines in memory (all of them with `None`), echoing to stdout when `echo`.
    pub fn open(
        program: Program,
        file: &Path,
        keep: Option<usize>,
        echo: bool,
    ) -> io::Result<Self> {
        // Owner only, like the databases and keys beside it: logs name customers and
        // workloads, though never their secrets.
        let file = File::options()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(file)?;
        Ok(Self {
            program,
            lines: Mutex::new(VecDeque::new()),
            keep,
            file: Mutex::new(BufWriter::new(file)),
            echo,
        })
    }

    /// The program.
    pub fn program(&self) -> Program {
        self.program
    }

    /// Every line kept, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.lock_lines().iter().cloned().collect()
    }

    /// The last `n` lines kept.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let lines = self.lock_lines();
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// Records one line (without its newline).
    pub fn push(&self, line: String) {
        // A full disk or a closed stdout must not stop the program's output being drained:
        // the line is still kept in memory.
        let _ = writeln!(
            self.file.lock().unwrap_or_else(PoisonError::into_inner),
            "{line}"
        );
        if self.echo {
            let _ = writeln!(
                io::stdout().lock(),
                "{:<PREFIX_WIDTH$} | {line}",
                self.program.name()
            );
        }
        let mut lines = self.lock_lines();
        if let Some(keep) = self.keep {
            while lines.len() >= keep.max(1) {
                lines.pop_front();
            }
        }
        lines.push_back(line);
    }

    /// Drains `stream` on a thread of its own until it closes, one line at a time. A thread,
    /// not an async task, so the program never blocks on a full pipe while the test's runtime
    /// is busy or shutting down.
    pub fn drain(
        self: &Arc<Self>,
        stream: impl Read + Send + 'static,
    ) -> io::Result<JoinHandle<()>> {
        let log = Arc::clone(self);
        std::thread::Builder::new()
            .name(format!("{}-log", self.program.name()))
            .spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let text = String::from_utf8_lossy(&line);
                            log.push(text.trim_end_matches(['\n', '\r']).to_owned());
                            if reader.buffer().is_empty() {
                                log.flush();
                            }
                        }
                    }
                }
                log.flush();
            })
    }

    /// Writes the buffered lines to the file.
    pub fn flush(&self) {
        let _ = self
            .file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush();
    }

    fn lock_lines(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_in_memory_and_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agent-a.log");
        let log = Arc::new(ProgramLog::open(Program::AgentA, &file, None, false).unwrap());
        let reader = log
            .drain(&b"first\nsecond\r\nno newline at the end"[..])
            .unwrap();
        reader.join().unwrap();
        assert_eq!(log.lines(), ["first", "second", "no newline at the end"]);
        assert_eq!(log.tail(1), ["no newline at the end"]);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "first\nsecond\nno newline at the end\n"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&file).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn keeps_only_the_last_lines_when_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let log = ProgramLog::open(
            Program::WebApp,
            &dir.path().join("web-app.log"),
            Some(2),
            false,
        )
        .unwrap();
        for n in 0..5 {
            log.push(format!("line {n}"));
        }
        assert_eq!(log.lines(), ["line 3", "line 4"]);
        assert_eq!(log.tail(10), ["line 3", "line 4"]);
    }

    #[test]
    fn survives_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(
            ProgramLog::open(Program::AgentB, &dir.path().join("b.log"), None, false).unwrap(),
        );
        log.drain(&b"ok \xff\n"[..]).unwrap().join().unwrap();
        assert_eq!(log.lines(), ["ok \u{fffd}"]);
    }
}
