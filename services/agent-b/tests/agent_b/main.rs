//! Agent B over real mutual TLS on 127.0.0.1, in front of the real internal IAM, Agent A and
//! Service A2: dev-PKI SVIDs made per test, a SQLite database per program per test, real service
//! and transaction tokens. Customer access tokens come from a test issuer that signs them with a
//! real ES256 key set (`tokens::KeySet`) and serves its JWKS over HTTP on loopback, as the
//! external IAM does: shaped like the external IAM's tokens, and bendable into every bad token
//! the tests need. Agent B's clock (also the issuer's and the web app's DPoP clock) is a manual
//! clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod body;
mod caching;
mod caller;
mod credentials;
mod flow;
mod health;
mod local;
mod logs;
mod outage;
