//! Mutual TLS over real sockets on 127.0.0.1, with SVIDs from the dev PKI made in a temporary
//! directory per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod grpc;
mod hostile_certs;
mod http_server;
mod identity_loading;
mod refusals;
mod rotation;
mod svid_validation;
