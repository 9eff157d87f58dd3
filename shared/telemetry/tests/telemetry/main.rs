//! Integration tests of the telemetry crate: the log lines programs actually write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod capture;
mod human_lines;
mod json_lines;
