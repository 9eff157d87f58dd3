//! The dev PKI tool against real directories.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod certificates;
mod cli;
mod ensure;
mod permissions;
