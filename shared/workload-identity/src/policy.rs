//! Which authenticated peers an endpoint accepts.
//!
//! There is deliberately no "any peer" policy: a valid SVID proves who the peer is, not that it
//! may call this endpoint. Every server and every client names whom it talks to.

use crate::spiffe_id::{SpiffeId, TrustDomain};
use crate::svid::SvidError;

/// The peers an endpoint accepts, by SPIFFE ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerPolicy {
    /// Exactly these SPIFFE IDs. An empty list accepts no one.
    AllowList(Vec<SpiffeId>),
    /// Any service account of `namespace` in `trust_domain`
    /// (`spiffe://<trust domain>/ns/<namespace>/sa/<any>`).
    Namespace {
        trust_domain: TrustDomain,
        namespace: String,
    },
    /// Any peer one of these policies accepts. An empty list accepts no one.
    AnyOf(Vec<PeerPolicy>),
    /// Any workload of `trust_domain`. Only for an endpoint that authorizes every request
    /// itself, against a registry of its own (the internal IAM, which looks each caller's
    /// SPIFFE ID up in its registrations): the TLS layer then admits the trust domain's
    /// members, never anyone else.
    TrustDomainMember(TrustDomain),
}

impl PeerPolicy {
    /// Accepts exactly one SPIFFE ID.
    pub fn only(peer: SpiffeId) -> Self {
        Self::AllowList(vec![peer])
    }

    pub fn allows(&self, peer: &SpiffeId) -> bool {
        match self {
            Self::AllowList(allowed) => allowed.contains(peer),
            Self::Namespace {
                trust_domain,
                namespace,
            } => peer.is_member_of(trust_domain) && peer.namespace() == Some(namespace.as_str()),
            Self::AnyOf(policies) => policies.iter().any(|policy| policy.allows(peer)),
            Self::TrustDomainMember(trust_domain) => peer.is_member_of(trust_domain),
        }
    }

    /// [`allows`](Self::allows), as the error the TLS verifiers report.
    pub fn authorize(&self, peer: &SpiffeId) -> Result<(), SvidError> {
        if self.allows(peer) {
            Ok(())
        } else {
            Err(SvidError::NotAuthorized { peer: peer.clone() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> SpiffeId {
        SpiffeId::parse(text).unwrap()
    }

    fn demo() -> TrustDomain {
        TrustDomain::new("demo.test").unwrap()
    }

    #[test]
    fn allow_list_accepts_exactly_its_members() {
        let policy = PeerPolicy::only(id("spiffe://demo.test/ns/namespace-a/sa/agent-a"));
        assert!(policy.allows(&id("spiffe://demo.test/ns/namespace-a/sa/agent-a")));
        for other in [
            "spiffe://demo.test/ns/namespace-a/sa/agent-a2",
            "spiffe://demo.test/ns/namespace-a/sa/Agent-a",
            "spiffe://other.test/ns/namespace-a/sa/agent-a",
            "spiffe://demo.test/ns/namespace-a/sa/agent-a/x",
        ] {
            assert_eq!(
                policy.authorize(&id(other)),
                Err(SvidError::NotAuthorized { peer: id(other) }),
                "{other}"
            );
        }
    }

    #[test]
    fn empty_policies_accept_no_one() {
        let peer = id("spiffe://demo.test/ns/namespace-a/sa/agent-a");
        assert!(!PeerPolicy::AllowList(Vec::new()).allows(&peer));
        assert!(!PeerPolicy::AnyOf(Vec::new()).allows(&peer));
    }

    #[test]
    fn namespace_needs_trust_domain_and_exact_namespace() {
        let policy = PeerPolicy::Namespace {
            trust_domain: demo(),
            namespace: "namespace-a".to_owned(),
        };
        assert!(policy.allows(&id("spiffe://demo.test/ns/namespace-a/sa/agent-a")));
        assert!(policy.allows(&id("spiffe://demo.test/ns/namespace-a/sa/service-a2")));
        for other in [
            "spiffe://demo.test/ns/namespace-b/sa/agent-b",
            "spiffe://other.test/ns/namespace-a/sa/agent-a",
            "spiffe://demo.test/ns/namespace-a",
            "spiffe://demo.test/ns/namespace-a/sa/agent-a/extra",
            "spiffe://demo.test/namespace-a/agent-a",
        ] {
            assert_eq!(
                policy.authorize(&id(other)),
                Err(SvidError::NotAuthorized { peer: id(other) }),
                "{other}"
            );
        }
    }

    #[test]
    fn trust_domain_member_accepts_every_workload_of_that_domain_only() {
        let policy = PeerPolicy::TrustDomainMember(demo());
        for member in [
            "spiffe://demo.test/ns/namespace-a/sa/agent-a",
            "spiffe://demo.test/ns/namespace-b/sa/agent-b",
            "spiffe://demo.test/some/other/path",
        ] {
            assert!(policy.allows(&id(member)), "{member}");
        }
        for outsider in [
            "spiffe://other.test/ns/namespace-a/sa/agent-a",
            "spiffe://demo.test.evil/ns/namespace-a/sa/agent-a",
            "spiffe://sub.demo.test/ns/namespace-a/sa/agent-a",
        ] {
            assert_eq!(
                policy.authorize(&id(outsider)),
                Err(SvidError::NotAuthorized { peer: id(outsider) }),
                "{outsider}"
            );
        }
    }

    #[test]
    fn any_of_accepts_what_one_member_accepts() {
        let policy = PeerPolicy::AnyOf(vec![
            PeerPolicy::only(id("spiffe://demo.test/ns/namespace-b/sa/agent-b")),
            PeerPolicy::Namespace {
                trust_domain: demo(),
                namespace: "namespace-a".to_owned(),
            },
        ]);
        assert!(policy.allows(&id("spiffe://demo.test/ns/namespace-b/sa/agent-b")));
        assert!(policy.allows(&id("spiffe://demo.test/ns/namespace-a/sa/web-app")));
        let outsider = id("spiffe://demo.test/ns/internal/sa/internal-iam");
        assert_eq!(
            policy.authorize(&outsider),
            Err(SvidError::NotAuthorized { peer: outsider })
        );
    }
}
