//! Scope strings (RFC 6749 §3.3: space-delimited, case-sensitive).

/// Requests an OpenID Connect ID token (OpenID Connect Core 1.0 §3.1.2.1).
pub const OPENID: &str = "openid";

/// The customer's default profile claims in the ID token (OpenID Connect Core 1.0 §5.4).
pub const PROFILE: &str = "profile";

/// Lets the customer use the chatbot; the web app checks it before calling Agent B (design step 11).
pub const CHATBOT_ACCESS: &str = "chatbot:access";

/// Lets the web app invoke Agent B on the customer's behalf; Agent B requires it (design step 12).
pub const AGENT_INVOKE: &str = "agent:invoke";

/// Lets a workload in one namespace call Agent A in another; carried by service tokens from the
/// internal IAM (design step 16).
pub const CROSS_NAMESPACE_INVOKE: &str = "cross-namespace:invoke";

/// Every scope the system defines.
pub const ALL: [&str; 5] = [
    OPENID,
    PROFILE,
    CHATBOT_ACCESS,
    AGENT_INVOKE,
    CROSS_NAMESPACE_INVOKE,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
    #[test]
    fn every_scope_is_a_valid_scope_token() {
        for scope in ALL {
            assert!(!scope.is_empty());
            assert!(
                scope
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)),
                "{scope}"
            );
        }
    }
}
