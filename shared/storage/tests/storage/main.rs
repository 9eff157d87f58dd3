//! The storage crate against real databases: a SQLite file per test, and PostgreSQL when
//! `TEST_POSTGRES_URL` names a server the tests may create databases on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod connect;
mod keys;
mod support;
