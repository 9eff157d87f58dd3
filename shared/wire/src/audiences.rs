//! Audience values (`aud`, RFC 7519 §4.1.3) and resource indicators (RFC 8707 §2) that are fixed
//! by the design. Audiences that depend on the deployment (Agent B's API URL, the trust domain of
//! transaction tokens) are configuration, not constants.

/// The audience of service tokens for Agent A, requested as `audience`/`resource` in the
/// client-credentials grant (design step 14) and required by Agent A (design step 17).
pub const AGENT_SERVICE_A: &str = "agent-service-a";
