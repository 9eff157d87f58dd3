//! Installing the global subscriber: once per program at start-up, optionally in tests.

use crate::format::human::HumanLines;
use crate::format::json::JsonLines;
use std::env::{self, VarError};
use std::io::IsTerminal;
use std::str::FromStr;
use std::sync::Once;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::fmt::{self, MakeWriter, TestWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Environment variable choosing the format: `human` (default) or `json`.
pub const LOG_FORMAT_VAR: &str = "LOG_FORMAT";
/// Environment variable with `tracing` filter directives (e.g. `info,agent_a=debug`).
pub const FILTER_VAR: &str = "RUST_LOG";
/// Environment variable that makes tests log: `json` for JSON lines, anything else for human.
pub const TEST_LOG_VAR: &str = "TEST_LOG";
/// Filter when `RUST_LOG` is unset: every step event and warning, no per-frame chatter.
pub const DEFAULT_FILTER: &str = "info";

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For a person at a terminal; coloured when stdout is one.
    Human,
    /// One JSON object per line, for machines (see [`crate::format`]).
    Json,
}

impl LogFormat {
    /// The format named by `LOG_FORMAT`, or [`LogFormat::Human`] when it is unset.
    pub fn from_env() -> Result<Self, InitError> {
        match env::var(LOG_FORMAT_VAR) {
            Ok(value) => value.parse(),
            Err(VarError::NotPresent) => Ok(Self::Human),
            Err(VarError::NotUnicode(_)) => Err(InitError::InvalidLogFormat),
        }
    }
}

impl FromStr for LogFormat {
    type Err = InitError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "human" => Ok(Self::Human),
            "json" => Ok(Self::Json),
            _ => Err(InitError::InvalidLogFormat),
        }
    }
}

/// Why logging could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitError {
    /// `LOG_FORMAT` is neither `human` nor `json`.
    #[error("{LOG_FORMAT_VAR} must be \"human\" or \"json\"")]
    InvalidLogFormat,
    /// The filter directives do not parse.
    #[error("invalid filter directives: {0}")]
    InvalidFilter(String),
    /// A global subscriber is already installed (a second `init`, or a test harness's own).
    #[error("a global tracing subscriber is already installed")]
    AlreadyInitialised,
}

/// Installs the global subscriber for `service`: lines to stdout in `format`, filtered by
/// `RUST_LOG` (default [`DEFAULT_FILTER`]). A second call returns
/// [`InitError::AlreadyInitialised`] and changes nothing.
pub fn init(service: &'static str, format: LogFormat) -> Result<(), InitError> {
    let directives = match env::var(FILTER_VAR) {
        Ok(directives) => directives,
        Err(VarError::NotPresent) => DEFAULT_FILTER.to_owned(),
        Err(VarError::NotUnicode(_)) => {
            return Err(InitError::InvalidFilter(format!(
                "{FILTER_VAR} is not UTF-8"
            )));
        }
    };
    let ansi = format == LogFormat::Human && std::io::stdout().is_terminal();
    install(build(service, format, &directives, std::io::stdout, ansi)?)
}

fn install(subscriber: impl Subscriber + Send + Sync + 'static) -> Result<(), InitError> {
    subscriber
        .try_init()
        .map_err(|_| InitError::AlreadyInitialised)
}

/// Installs a subscriber for tests, once per test binary, only if `TEST_LOG` is set: tests stay
/// quiet unless someone asks. Output goes through the test harness's capture.
pub fn init_for_tests() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let Some(choice) = env::var_os(TEST_LOG_VAR) else {
            return;
        };
        let format = if choice == "json" {
            LogFormat::Json
        } else {
            LogFormat::Human
        };
        let directives = env::var(FILTER_VAR).unwrap_or_else(|_| "debug".to_owned());
        if let Ok(subscriber) = build("test", format, &directives, TestWriter::new(), false) {
            // Another subscriber may already be installed by the harness; that one then wins.
            let _ = subscriber.try_init();
        }
    });
}

/// A subscriber that writes `format` lines for `service` to `writer`, filtered by `directives`
/// (the `RUST_LOG` syntax), without colours. For tests that capture output and for programs that
/// log somewhere other than stdout; install it with `tracing::subscriber::set_global_default`
/// or scope it with `tracing::subscriber::with_default`.
pub fn subscriber<W>(
    service: &'static str,
    format: LogFormat,
    directives: &str,
    writer: W,
) -> Result<impl Subscriber + Send + Sync + 'static, InitError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    build(service, format, directives, writer, false)
}

fn build<W>(
    service: &'static str,
    format: LogFormat,
    directives: &str,
    writer: W,
    ansi: bool,
) -> Result<impl Subscriber + Send + Sync + 'static, InitError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::builder()
        .parse(directives)
        .map_err(|error| InitError::InvalidFilter(error.to_string()))?;
    let lines = match format {
        LogFormat::Json => fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines::new(service))
            .with_ansi(false)
            .with_writer(writer)
            .boxed(),
        LogFormat::Human => fmt::layer()
            .event_format(HumanLines::new(service))
            .with_ansi(ansi)
            .with_writer(writer)
            .boxed(),
    };
    Ok(tracing_subscriber::registry().with(filter).with(lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_names() {
        assert_eq!("human".parse(), Ok(LogFormat::Human));
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        for value in ["", "JSON", "text", "json "] {
            assert_eq!(
                value.parse::<LogFormat>(),
                Err(InitError::InvalidLogFormat),
                "{value:?}"
            );
        }
    }

    #[test]
    fn invalid_directives_are_reported() {
        let result = subscriber("test", LogFormat::Json, "info,[unclosed", std::io::sink);
        assert!(matches!(result, Err(InitError::InvalidFilter(_))));
    }

    #[test]
    fn a_second_installation_is_refused_not_panicked_on() {
        // Silent subscribers: a global one writing to stdout would bypass the harness's capture.
        let quiet = || subscriber("test", LogFormat::Json, "off", std::io::sink).unwrap();
        let _ = install(quiet());
        assert_eq!(install(quiet()), Err(InitError::AlreadyInitialised));
    }
}
