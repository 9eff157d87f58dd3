//! Clients refused by the TLS layer, before any request is read: no certificate, another CA, an
//! expired SVID, another trust domain. The client only hears an alert; the IAM audits the
//! precise reason.

use dev_pki::LeafSpec;
use rustls::AlertDescription;
use workload_identity::TrustDomain;
use workload_identity::workloads::AGENT_B;

use crate::support::TestIam;
use crate::support::pki::{HOUR, chain_and_key, other_ca};
use crate::support::tls::{presenting, received_alert};

const PARAMS: [(&str, &str); 3] = [
    ("grant_type", "client_credentials"),
    ("audience", "agent-service-a"),
    ("scope", "cross-namespace:invoke"),
];

/// Sends a token request with `client`, which must fail in the handshake with `alert`; the
/// audit then holds one refusal whose reason contains `reason`, and nothing was issued.
async fn assert_refused_at_handshake(
    iam: &TestIam,
    client: reqwest::Client,
    alert: AlertDescription,
    reason: &str,
) {
    let error = iam.post(&client, &PARAMS).await.unwrap_err();
    assert_eq!(received_alert(&error), alert);
    let audit = iam.audit_rows(1).await;
    let [event] = audit.as_slice() else {
        panic!("{audit:?}")
    };
    assert_eq!(event.outcome, "refused");
    assert_eq!(event.jti, None);
    assert!(
        event.reason.starts_with("TLS handshake refused: ") && event.reason.contains(reason),
        "{}",
        event.reason
    );
    assert!(
        event
            .peer_addr
            .as_deref()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
}

#[tokio::test]
async fn no_client_certificate() {
    let iam = TestIam::start().await;
    let client = presenting(&iam.pki, None);
    assert_refused_at_handshake(
        &iam,
        client,
        AlertDescription::CertificateRequired,
        "the client presented no certificate",
    )
    .await;
    iam.stop().await;
}

#[tokio::test]
async fn a_certificate_from_another_ca() {
    let iam = TestIam::start().await;
    let stranger = other_ca(&iam.pki.trust_domain);
    let svid = stranger.issue(&iam.pki.spec(&iam.pki.id(AGENT_B))).unwrap();
    let client = presenting(&iam.pki, Some(chain_and_key(&svid)));
    assert_refused_at_handshake(
        &iam,
        client,
        AlertDescription::CertificateUnknown,
        "does not chain to the trust bundle",
    )
    .await;
    iam.stop().await;
}

#[tokio::test]
async fn an_expired_svid() {
    let iam = TestIam::start().await;
    let now = std::time::SystemTime::now();
    let svid = iam.pki.issue(&LeafSpec {
        not_before: now - 2 * HOUR,
        not_after: now - HOUR,
        ..iam.pki.spec(&iam.pki.id(AGENT_B))
    });
    let client = presenting(&iam.pki, Some(chain_and_key(&svid)));
    assert_refused_at_handshake(
        &iam,
        client,
        AlertDescription::CertificateUnknown,
        "certificate expired at",
    )
    .await;
    iam.stop().await;
}

#[tokio::test]
async fn a_spiffe_id_of_another_trust_domain() {
    let iam = TestIam::start().await;
    let other = TrustDomain::new("other.test").unwrap();
    // Signed by the trusted CA, but naming a workload of another trust domain.
    let svid = iam.pki.issue(&iam.pki.spec(&AGENT_B.spiffe_id(&other)));
    let client = presenting(&iam.pki, Some(chain_and_key(&svid)));
    assert_refused_at_handshake(
        &iam,
        client,
        AlertDescription::CertificateUnknown,
        "SPIFFE ID is in trust domain other.test, but the trust bundle is for demo.test",
    )
    .await;
    iam.stop().await;
}
