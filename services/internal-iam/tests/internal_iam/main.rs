//! The internal IAM over real mutual TLS on 127.0.0.1, with dev-PKI SVIDs made per test, a
//! SQLite database per test, the shipped registration policy, and a customer-token issuer that
//! serves its JWKS over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod admin;
mod attacks;
mod client_credentials;
mod exchange;
mod handshake;
mod metadata;
mod postgres;
mod rotation;
mod steps;
