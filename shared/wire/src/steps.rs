//! The 23 steps of the design, defined once: the step events in the logs, the timeline the web app
//! shows and the end-to-end test all read this catalogue.
//!
//! `performer` is the program that makes the step's check and emits its event. Where the design
//! phrases a step from the caller's side ("the web app sends the code"), the performer is the
//! side that checks it (the external IAM redeems the code). A program may also report a step it
//! did not perform itself, e.g. Agent B reporting steps 15–16 as served from its token cache.

use crate::programs::{Namespace, Program};
use Phase::{
    CrossNamespaceInvocation as P2, CustomerAuthentication as P1, IntraNamespaceCall as P4,
    ResponsePropagation as P5, ServiceToServiceAuth as P3,
};
use Program::{AgentA, AgentB, ExternalIam, InternalIam, ServiceA2, WebApp};
use std::fmt;

/// The five phases of the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Steps 1–9: OpenID Connect with PKCE, password and TOTP.
    CustomerAuthentication,
    /// Steps 10–13: the web app calls Agent B across namespaces with the customer's token.
    CrossNamespaceInvocation,
    /// Steps 14–17: client credentials and token exchange over mTLS, then the call to Agent A.
    ServiceToServiceAuth,
    /// Steps 18–20: Agent A calls Service A2 with mesh mTLS only.
    IntraNamespaceCall,
    /// Steps 21–23: the answer travels back to the browser.
    ResponsePropagation,
}

impl Phase {
    /// 1 to 5.
    pub const fn number(self) -> u8 {
        match self {
            Self::CustomerAuthentication => 1,
            Self::CrossNamespaceInvocation => 2,
            Self::ServiceToServiceAuth => 3,
            Self::IntraNamespaceCall => 4,
            Self::ResponsePropagation => 5,
        }
    }

    /// The phase's title as in the design.
    pub const fn title(self) -> &'static str {
        match self {
            Self::CustomerAuthentication => "Customer authentication (OIDC + PKCE)",
            Self::CrossNamespaceInvocation => "Cross-namespace service invocation",
            Self::ServiceToServiceAuth => "Service-to-service auth (client_credentials + mTLS)",
            Self::IntraNamespaceCall => "Intra-namespace call (mesh mTLS only)",
            Self::ResponsePropagation => "Response propagation",
        }
    }
}

/// One step of the catalogue. Only the constants below exist: a step cannot be made up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Step {
    number: u8,
    phase: Phase,
    title: &'static str,
    performer: Program,
}

impl Step {
    const fn new(number: u8, phase: Phase, title: &'static str, performer: Program) -> Self {
        Self {
            number,
            phase,
            title,
            performer,
        }
    }

    /// 1 to 23.
    pub const fn number(self) -> u8 {
        self.number
    }

    /// The phase the step belongs to.
    pub const fn phase(self) -> Phase {
        self.phase
    }

    /// A short title for the timeline.
    pub const fn title(self) -> &'static str {
        self.title
    }

    /// The program that performs the step's check.
    pub const fn performer(self) -> Program {
        self.performer
    }

    /// The namespace of the performer.
    pub const fn namespace(self) -> Namespace {
        self.performer.namespace()
    }

    /// The step with this number, if there is one.
    pub fn by_number(number: u32) -> Option<Self> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        ALL.get(index).copied()
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} ({})", self.number, self.title)
    }
}

/// 1. The browser asks the web app for a protected page.
pub const PROTECTED_PAGE_REQUESTED: Step =
    Step::new(1, P1, "Browser requests a protected page", WebApp);
/// 2. The web app redirects to `/authorize` with S256 PKCE, `state`, `nonce` and the scopes.
pub const AUTHORIZATION_REDIRECT: Step = Step::new(
    2,
    P1,
    "Redirect to /authorize with PKCE, state and nonce",
    WebApp,
);
/// 3. The customer enters username and password, then a TOTP code.
pub const CUSTOMER_SIGNS_IN: Step =
    Step::new(3, P1, "Customer signs in: password, then TOTP", ExternalIam);
/// 4. The external IAM checks the credentials (argon2id, TOTP replay, throttling).
pub const CREDENTIALS_VERIFIED: Step = Step::new(4, P1, "Password and TOTP verified", ExternalIam);
/// 5. The external IAM redirects back with a one-time code and `iss` (RFC 9207).
pub const AUTHORIZATION_CODE_ISSUED: Step =
    Step::new(5, P1, "One-time authorization code issued", ExternalIam);
/// 6. The web app's callback receives the code and checks `state`.
pub const CALLBACK_STATE_CHECKED: Step =
    Step::new(6, P1, "Callback received; state checked", WebApp);
/// 7. The token endpoint redeems the code with the PKCE verifier.
pub const CODE_REDEEMED: Step = Step::new(7, P1, "Code and PKCE verifier redeemed", ExternalIam);
/// 8. The web app receives the ID and DPoP-bound access token and validates the ID token.
pub const TOKENS_RECEIVED: Step = Step::new(8, P1, "Tokens received; ID token validated", WebApp);
/// 9. The web app opens a server-side session; the browser gets only an opaque cookie.
pub const SESSION_ESTABLISHED: Step = Step::new(9, P1, "Server-side session established", WebApp);
/// 10. The browser posts a chatbot action (CSRF-protected).
pub const CHAT_ACTION_POSTED: Step =
    Step::new(10, P2, "Chatbot action posted; CSRF token checked", WebApp);
/// 11. The web app checks the session's token carries `chatbot:access`.
pub const CHAT_SCOPE_CHECKED: Step = Step::new(11, P2, "chatbot:access scope checked", WebApp);
/// 12. Agent B validates the customer's DPoP-bound token and the proof.
pub const CUSTOMER_TOKEN_VALIDATED: Step =
    Step::new(12, P2, "Customer token and DPoP proof validated", AgentB);
/// 13. Agent B decides the request needs Agent A.
pub const AGENT_A_NEEDED: Step =
    Step::new(13, P2, "Intent needs account data from Agent A", AgentB);
/// 14. Agent B asks the internal IAM for a service token and a transaction token, over mTLS.
pub const TOKENS_REQUESTED: Step = Step::new(
    14,
    P3,
    "Service token and user context requested over mTLS",
    AgentB,
);
/// 15. The internal IAM verifies the caller's SVID, its registration and the customer token.
pub const WORKLOAD_VERIFIED: Step = Step::new(
    15,
    P3,
    "Workload identity and registration verified",
    InternalIam,
);
/// 16. The internal IAM issues the certificate-bound service token and the transaction token.
pub const TOKENS_ISSUED: Step = Step::new(
    16,
    P3,
    "Service token and transaction token issued",
    InternalIam,
);
/// 17. Agent A verifies the service token, its certificate binding and the user context.
pub const CALLER_VERIFIED: Step = Step::new(
    17,
    P3,
    "Service token, certificate binding and user context verified",
    AgentA,
);
/// 18. Agent A calls Service A2 over mesh mTLS, forwarding the user context unchanged.
pub const SERVICE_A2_CALLED: Step = Step::new(18, P4, "Service A2 called over mesh mTLS", AgentA);
/// 19. Service A2 checks the peer against its allow-list and reads the customer.
pub const PEER_AUTHORIZED: Step = Step::new(
    19,
    P4,
    "Peer allow-listed; customer read from user context",
    ServiceA2,
);
/// 20. Service A2 returns that customer's records, and only that customer's.
pub const RECORDS_RETURNED: Step = Step::new(20, P4, "Customer's records returned", ServiceA2);
/// 21. Agent A returns the answer to Agent B.
pub const AGENT_A_RESPONDED: Step = Step::new(21, P5, "Answer returned to Agent B", AgentA);
/// 22. Agent B returns the answer to the web app.
pub const AGENT_B_RESPONDED: Step = Step::new(22, P5, "Answer returned to the web app", AgentB);
/// 23. The web app shows the answer and the timeline.
pub const ANSWER_SHOWN: Step = Step::new(23, P5, "Answer and timeline shown", WebApp);

/// The catalogue, in order: `ALL[n - 1]` is step `n`.
pub const ALL: [Step; 23] = [
    PROTECTED_PAGE_REQUESTED,
    AUTHORIZATION_REDIRECT,
    CUSTOMER_SIGNS_IN,
    CREDENTIALS_VERIFIED,
    AUTHORIZATION_CODE_ISSUED,
    CALLBACK_STATE_CHECKED,
    CODE_REDEEMED,
    TOKENS_RECEIVED,
    SESSION_ESTABLISHED,
    CHAT_ACTION_POSTED,
    CHAT_SCOPE_CHECKED,
    CUSTOMER_TOKEN_VALIDATED,
    AGENT_A_NEEDED,
    TOKENS_REQUESTED,
    WORKLOAD_VERIFIED,
    TOKENS_ISSUED,
    CALLER_VERIFIED,
    SERVICE_A2_CALLED,
    PEER_AUTHORIZED,
    RECORDS_RETURNED,
    AGENT_A_RESPONDED,
    AGENT_B_RESPONDED,
    ANSWER_SHOWN,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_one_to_twenty_three_in_order() {
        for (index, step) in ALL.iter().enumerate() {
            assert_eq!(usize::from(step.number()), index + 1);
        }
    }

    #[test]
    fn phases_follow_the_design() {
        let phase_of = |n: u32| Step::by_number(n).unwrap().phase().number();
        let expected = [
            (1..=9, 1),
            (10..=13, 2),
            (14..=17, 3),
            (18..=20, 4),
            (21..=23, 5),
        ];
        for (range, phase) in expected {
            for n in range {
                assert_eq!(phase_of(n), phase, "step {n}");
            }
        }
    }

    #[test]
    fn by_number_rejects_numbers_outside_the_catalogue() {
        assert_eq!(Step::by_number(0), None);
        assert_eq!(Step::by_number(24), None);
        assert_eq!(Step::by_number(u32::MAX), None);
        assert_eq!(Step::by_number(17), Some(CALLER_VERIFIED));
    }

    #[test]
    fn performers_follow_the_design() {
        let performers: Vec<&str> = ALL.iter().map(|s| s.performer().name()).collect();
        assert_eq!(
            performers,
            [
                "web-app",
                "web-app",
                "external-iam",
                "external-iam",
                "external-iam",
                "web-app",
                "external-iam",
                "web-app",
                "web-app",
                "web-app",
                "web-app",
                "agent-b",
                "agent-b",
                "agent-b",
                "internal-iam",
                "internal-iam",
                "agent-a",
                "agent-a",
                "service-a2",
                "service-a2",
                "agent-a",
                "agent-b",
                "web-app",
            ]
        );
        assert_eq!(SERVICE_A2_CALLED.namespace(), Namespace::NamespaceA);
    }

    #[test]
    fn displays_number_and_title() {
        assert_eq!(
            CODE_REDEEMED.to_string(),
            "step 7 (Code and PKCE verifier redeemed)"
        );
    }
}
