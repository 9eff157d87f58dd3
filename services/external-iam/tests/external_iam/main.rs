#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of the external IAM: the real server on 127.0.0.1:0, a SQLite file per
//! test, a manual clock, real HTTP.

mod attacks;
mod authorize;
mod cli;
mod endpoints;
mod flow;
mod login;
mod support;
mod token;
