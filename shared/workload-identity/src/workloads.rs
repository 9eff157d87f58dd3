//! The workloads of the system, named once.
//!
//! Each runs as a service account in a namespace and is identified by
//! `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. The external IAM is outside the
//! trust domain (it is the customer's OpenID provider) and has no SPIFFE ID.

use crate::spiffe_id::{SpiffeId, TrustDomain, is_path_byte};

/// Trust domain of the development PKI and of the demo.
pub const DEV_TRUST_DOMAIN: &str = "demo.test";

/// A well-known workload: its program name (also its directory in the dev PKI), namespace and
/// service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Workload {
    name: &'static str,
    namespace: &'static str,
    service_account: &'static str,
}

/// The browser-facing web application.
pub const WEB_APP: Workload = Workload::new("web-app", "namespace-a", "web-app");
/// The chatbot agent the web app calls across namespaces.
pub const AGENT_B: Workload = Workload::new("agent-b", "namespace-b", "agent-b");
/// The account-data agent Agent B calls over gRPC.
pub const AGENT_A: Workload = Workload::new("agent-a", "namespace-a", "agent-a");
/// The data service Agent A calls within its own namespace.
pub const SERVICE_A2: Workload = Workload::new("service-a2", "namespace-a", "service-a2");
/// The internal IAM that issues service and transaction tokens to workloads.
pub const INTERNAL_IAM: Workload = Workload::new("internal-iam", "internal", "internal-iam");

/// Every workload that holds an X.509-SVID.
pub const ALL: [Workload; 5] = [WEB_APP, AGENT_B, AGENT_A, SERVICE_A2, INTERNAL_IAM];

impl Workload {
    /// Private and `const`: every workload is a constant above, so a name outside the SPIFFE
    /// path charset fails the build instead of a request.
    const fn new(
        name: &'static str,
        namespace: &'static str,
        service_account: &'static str,
    ) -> Self {
        assert!(
            is_segment(name),
            "workload name is not a SPIFFE path segment"
        );
        assert!(
            is_segment(namespace),
            "namespace is not a SPIFFE path segment"
        );
        assert!(
            is_segment(service_account),
            "service account is not a SPIFFE path segment"
        );
        Self {
            name,
            namespace,
            service_account,
        }
    }

    pub const fn name(&self) -> &'static str {
        self.name
    }

    pub const fn namespace(&self) -> &'static str {
        self.namespace
    }

    pub const fn service_account(&self) -> &'static str {
        self.service_account
    }

    /// `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`.
    pub fn spiffe_id(&self, trust_domain: &TrustDomain) -> SpiffeId {
        SpiffeId::service_account_unchecked(trust_domain, self.namespace, self.service_account)
    }

    /// The workload with this program name.
    pub fn by_name(name: &str) -> Option<Self> {
        ALL.into_iter().find(|workload| workload.name == name)
    }
}

const fn is_segment(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    // `.` and `..` are in the charset but are not segments.
    if matches!(bytes, b"." | b"..") {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if !is_path_byte(bytes[index]) {
            return false;
        }
        index += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_service_account_form() {
        let trust_domain = TrustDomain::new(DEV_TRUST_DOMAIN).unwrap();
        let expected = [
            "spiffe://demo.test/ns/namespace-a/sa/web-app",
            "spiffe://demo.test/ns/namespace-b/sa/agent-b",
            "spiffe://demo.test/ns/namespace-a/sa/agent-a",
            "spiffe://demo.test/ns/namespace-a/sa/service-a2",
            "spiffe://demo.test/ns/internal/sa/internal-iam",
        ];
        for (workload, expected) in ALL.iter().zip(expected) {
            let id = workload.spiffe_id(&trust_domain);
            assert_eq!(id.as_str(), expected);
            // The unchecked constructor agrees with the parser.
            assert_eq!(SpiffeId::parse(expected).unwrap(), id);
            assert_eq!(id.namespace(), Some(workload.namespace()));
            assert_eq!(id.service_account(), Some(workload.service_account()));
        }
    }

    #[test]
    fn names_are_unique_and_found() {
        for workload in ALL {
            assert_eq!(Workload::by_name(workload.name()), Some(workload));
        }
        assert_eq!(Workload::by_name("external-iam"), None);
    }

    #[test]
    fn segment_check_matches_the_spec_charset() {
        assert!(is_segment("namespace-a"));
        assert!(is_segment("a.b_c-D9"));
        assert!(!is_segment(""));
        assert!(!is_segment("."));
        assert!(!is_segment(".."));
        assert!(!is_segment("a/b"));
        assert!(!is_segment("a b"));
    }
}
