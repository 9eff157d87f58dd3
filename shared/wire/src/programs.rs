//! The six programs of the system and the namespaces they run in (design, "What the system is").

use std::fmt;

/// A trust boundary. Programs in different namespaces never trust each other's network position:
/// every cross-namespace call carries a token bound to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// The web app, Agent A and Service A2.
    NamespaceA,
    /// Agent B.
    NamespaceB,
    /// The external OpenID Connect provider.
    External,
    /// The internal IAM that issues service and transaction tokens to workloads.
    Internal,
}

impl Namespace {
    /// The name as used in SPIFFE IDs (`spiffe://<td>/ns/<name>/sa/<program>`) and manifests.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NamespaceA => "namespace-a",
            Self::NamespaceB => "namespace-b",
            Self::External => "external",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of the six programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Program {
    /// Faces the browser; calls Agent B.
    WebApp,
    /// The OpenID Connect provider the customer logs in at.
    ExternalIam,
    /// The chatbot agent; calls the internal IAM and Agent A.
    AgentB,
    /// Issues service tokens and transaction tokens to workloads.
    InternalIam,
    /// Serves account data to Agent B; calls Service A2.
    AgentA,
    /// Holds the customers' records.
    ServiceA2,
}

impl Program {
    /// Every program.
    pub const ALL: [Self; 6] = [
        Self::WebApp,
        Self::ExternalIam,
        Self::AgentB,
        Self::InternalIam,
        Self::AgentA,
        Self::ServiceA2,
    ];

    /// The program's name: its crate, binary, log `service` field and SPIFFE service account.
    pub const fn name(self) -> &'static str {
        match self {
            Self::WebApp => "web-app",
            Self::ExternalIam => "external-iam",
            Self::AgentB => "agent-b",
            Self::InternalIam => "internal-iam",
            Self::AgentA => "agent-a",
            Self::ServiceA2 => "service-a2",
        }
    }

    /// The namespace the program runs in.
    pub const fn namespace(self) -> Namespace {
        match self {
            Self::WebApp | Self::AgentA | Self::ServiceA2 => Namespace::NamespaceA,
            Self::AgentB => Namespace::NamespaceB,
            Self::ExternalIam => Namespace::External,
            Self::InternalIam => Namespace::Internal,
        }
    }

    /// The program with this name, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|program| program.name() == name)
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for program in Program::ALL {
            assert_eq!(Program::from_name(program.name()), Some(program));
        }
        assert_eq!(Program::from_name("Agent-A"), None);
    }

    #[test]
    fn namespaces_match_the_design_table() {
        let table: Vec<_> = Program::ALL
            .into_iter()
            .map(|p| (p.name(), p.namespace().as_str()))
            .collect();
        assert_eq!(
            table,
            [
                ("web-app", "namespace-a"),
                ("external-iam", "external"),
                ("agent-b", "namespace-b"),
                ("internal-iam", "internal"),
                ("agent-a", "namespace-a"),
                ("service-a2", "namespace-a"),
            ]
        );
    }
}
