//! Why the system could not start: each error names the program and, where it ran, its last
//! lines, so a failing test or demo says what went wrong without digging through files.

use std::fmt;
use std::process::ExitStatus;
use std::time::Duration;

use wire::Program;

use crate::binaries::MissingBinary;
use crate::ports::PortInUse;

/// How `std::io::ErrorKind::AddrInUse` reads in an error message (Linux: EADDRINUSE).
const ADDRESS_IN_USE: &str = "os error 98";

/// How many of a program's last lines an error quotes.
pub(crate) const QUOTED_LINES: usize = 25;

/// Why the system (or one program of it) did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    MissingBinary(#[from] MissingBinary),
    #[error(transparent)]
    PortInUse(#[from] PortInUse),
    #[error("cannot prepare {what}: {reason}")]
    Prepare { what: String, reason: String },
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: ExitStatus,
        stderr: String,
    },
    #[error("cannot start {}: {source}", program.name())]
    Spawn {
        program: Program,
        #[source]
        source: std::io::Error,
    },
    #[error("{} exited ({status}) before it was healthy; its last lines:\n{}", program.name(), LastLines(last_lines))]
    Exited {
        program: Program,
        status: ExitStatus,
        last_lines: Vec<String>,
    },
    #[error("{} was not healthy within {timeout:?} (GET {url}: {last_answer}); its last lines:\n{}", program.name(), LastLines(last_lines))]
    Unhealthy {
        program: Program,
        timeout: Duration,
        url: String,
        last_answer: String,
        last_lines: Vec<String>,
    },
}

impl StartError {
    /// Whether a port was taken: before the start, or as a program tried to bind it (its
    /// "cannot listen on …: Address in use" line). Another set of ports may then work.
    pub fn is_port_conflict(&self) -> bool {
        match self {
            Self::PortInUse(_) => true,
            Self::Exited { last_lines, .. } => last_lines
                .iter()
                .any(|line| line.contains("cannot listen on") && line.contains(ADDRESS_IN_USE)),
            _ => false,
        }
    }

    pub(crate) fn prepare(what: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self::Prepare {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

/// Lines quoted in an error, indented.
struct LastLines<'a>(&'a [String]);

impl fmt::Display for LastLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("    (nothing)");
        }
        for (n, line) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str("\n")?;
            }
            write!(f, "    {line}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt as _;

    use super::*;

    fn exited(line: &str) -> StartError {
        StartError::Exited {
            program: Program::AgentA,
            status: ExitStatus::from_raw(256),
            last_lines: vec!["starting".to_owned(), line.to_owned()],
        }
    }

    #[test]
    fn a_bind_failure_is_a_port_conflict() {
        assert!(
            exited("agent-a: cannot listen on 127.0.0.1:7443: Address in use (os error 98)")
                .is_port_conflict()
        );
        assert!(!exited("agent-a: cannot load this workload's identity").is_port_conflict());
    }

    #[test]
    fn quotes_the_last_lines_indented() {
        let text = exited("it broke").to_string();
        assert!(
            text.starts_with("agent-a exited (exit status: 1) before it was healthy"),
            "{text}"
        );
        assert!(
            text.ends_with("its last lines:\n    starting\n    it broke"),
            "{text}"
        );
    }
}
