//! Generated gRPC types, one module per proto package. The nesting mirrors the package names
//! because the generated code refers to other packages by relative path
//! (`super::super::account::v1`).
//!
//! Clients are generated without the plaintext `connect` helper: channels are built with mutual
//! TLS by the workload-identity crate and passed to `Client::new`.

/// `timeline.v1`: the step records each hop returns.
pub mod timeline {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("timeline.v1");
    }
}

/// `account.v1`: intents and the customer's records.
pub mod account {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("account.v1");
    }
}

/// `agent_a.v1`: the `AgentA` service Agent B calls.
pub mod agent_a {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("agent_a.v1");
    }
}

/// `service_a2.v1`: the `ServiceA2` service Agent A calls.
pub mod service_a2 {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("service_a2.v1");
    }
}
