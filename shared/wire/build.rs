//! Compiles `proto/*.proto` into Rust with the protoc binary vendored as a build dependency, so a
//! build needs no system protoc and every machine generates the same code.

use std::io;

const PROTOS: &[&str] = &[
    "proto/timeline.proto",
    "proto/account.proto",
    "proto/agent_a.proto",
    "proto/service_a2.proto",
];

fn main() -> io::Result<()> {
    let protoc = protoc_bin_vendored::protoc_bin_path().map_err(io::Error::other)?;

    // The protoc path goes through prost's config rather than the PROTOC environment variable:
    // setting a variable from a build script would need `unsafe` in edition 2024.
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);

    // The generated `connect(addr)` helper would dial a plaintext channel. Every channel in this
    // system is mutual TLS, built by the workload-identity crate and handed to `Client::new`, so
    // the plaintext shortcut is not generated at all.
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(false)
        .compile_with_config(config, PROTOS, &["proto"])
}
