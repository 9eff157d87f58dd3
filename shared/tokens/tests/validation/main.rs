//! Integration tests of token validation: every rejection with its exact error, key selection by
//! `kid` only, the JWKS cache against a real HTTP server, typed claims, and known-answer tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod claims;
mod hostile;
mod jwks_cache;
mod key_selection;
mod known_answers;
mod rejections;
mod support;
