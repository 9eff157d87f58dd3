//! Service A2 over real mutual TLS on 127.0.0.1: dev-PKI SVIDs made per test, a SQLite database
//! per test seeded from the shipped data file, and real service and transaction tokens from the
//! real internal IAM (which validates customer tokens from a test issuer serving its JWKS over
//! HTTP on loopback).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod authorization;
mod health;
mod postgres;
mod records;
mod seeding;
mod user_context;
