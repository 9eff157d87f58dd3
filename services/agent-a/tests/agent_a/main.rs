//! Agent A over real mutual TLS on 127.0.0.1, in front of the real Service A2: dev-PKI SVIDs made
//! per test, a SQLite database per program per test, and real service and transaction tokens
//! from the real internal IAM (which validates customer tokens from a test issuer serving its
//! JWKS over HTTP on loopback). Agent A's token clock is a manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod audit;
mod flow;
mod health;
mod logs;
mod postgres;
mod service_token;
mod user_context;
