#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of the web app: the real external IAM and the real web app on
//! 127.0.0.1:0, each with its own SQLite file, one manual clock, a dev PKI per test, real mTLS
//! to a small Agent B that verifies the token and proof the web app sends, and a scripted
//! browser that fills in the IAM's real forms.

mod chat;
mod entitlement;
mod full_chain;
mod login;
mod logout;
mod refresh;
mod store;
mod support;
