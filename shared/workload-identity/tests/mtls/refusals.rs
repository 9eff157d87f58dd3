//! Every peer an endpoint must refuse: the side that detects the problem names it exactly (the
//! verifier called directly with the certificate, and the same verifier in a real handshake);
//! the other side only learns that it was refused.

use std::io;
use std::sync::Arc;

use dev_pki::{IssuedSvid, KeyUsagePurpose, LeafSpec};
use rustls::AlertDescription;
use rustls::ClientConfig;
use rustls::client::danger::ServerCertVerifier as _;
use rustls::server::danger::ClientCertVerifier as _;
use rustls_pki_types::ServerName;
use workload_identity::workloads::{AGENT_A, AGENT_B, SERVICE_A2, Workload};
use workload_identity::{
    ClientAlpn, PeerPolicy, SpiffeClientCertVerifier, SpiffeServerCertVerifier, SvidError,
    TrustDomain, client_config, server_config,
};

use crate::support::errors::{received_alert, rustls_error, svid_error};
use crate::support::pki::{HOUR, TestPki, key_der, now, other_ca};
use crate::support::raw_tls::{accept_one, client_presenting, round_trip};
use crate::support::web::{WebServer, reqwest_client, whoami};

/// Runs one handshake of `client` against `server` (with `policy`) and returns the server's
/// error and the client's, both of which must exist.
async fn both_errors(
    pki: &TestPki,
    server: Workload,
    policy: PeerPolicy,
    client: Arc<ClientConfig>,
) -> (io::Error, io::Error) {
    let config = server_config(pki.source(server), policy).unwrap();
    let (addr, server_side) = accept_one(config).await;
    let client_error = round_trip(client, addr)
        .await
        .expect_err("the client got through");
    let server_error = server_side
        .await
        .unwrap()
        .expect_err("the server accepted the client");
    (server_error, client_error)
}

/// Agent A accepts only Agent B. Checks that a client presenting `svid` is refused for exactly
/// `expected` (matched by `same`), by the verifier and in a handshake, and that the client
/// only hears `certificate_unknown`.
async fn assert_client_refused(
    pki: &TestPki,
    svid: &IssuedSvid,
    same: impl Fn(&SvidError) -> bool,
) {
    let policy = PeerPolicy::only(pki.id(AGENT_B));
    let verifier = SpiffeClientCertVerifier::new(pki.source(AGENT_A), policy.clone());
    let direct = verifier
        .verify_client_cert(svid.cert_der(), &[], now())
        .unwrap_err();
    let direct = svid_error(&direct);
    assert!(same(&direct), "verifier said {direct:?}");

    let chain = vec![svid.cert_der().clone()];
    let client = client_presenting(pki, AGENT_A, Some((chain, key_der(svid))));
    let (server_error, client_error) = both_errors(pki, AGENT_A, policy, client).await;
    let in_handshake = svid_error(&server_error);
    assert!(same(&in_handshake), "handshake said {in_handshake:?}");
    assert_eq!(
        received_alert(&client_error),
        AlertDescription::CertificateUnknown
    );
}

#[tokio::test]
async fn a_client_from_another_ca() {
    let pki = TestPki::new();
    let stranger = other_ca(&pki.trust_domain);
    let svid = stranger.issue(&pki.spec(&pki.id(AGENT_B))).unwrap();
    // The impostor CA has the trusted CA's name, so the path builder finds it by name and the
    // signature check fails; a CA with another name would give `UnknownIssuer`.
    assert_client_refused(&pki, &svid, |error| {
        *error == SvidError::UntrustedChain(webpki::Error::InvalidSignatureForPublicKey)
    })
    .await;
}

#[tokio::test]
async fn a_client_of_another_trust_domain() {
    let pki = TestPki::new();
    let other = TrustDomain::new("other.test").unwrap();
    let svid = pki.issue(&pki.spec(&AGENT_B.spiffe_id(&other)));
    assert_client_refused(&pki, &svid, |error| {
        *error
            == SvidError::WrongTrustDomain {
                expected: pki.trust_domain.clone(),
                found: other.clone(),
            }
    })
    .await;
}

#[tokio::test]
async fn an_expired_client() {
    let pki = TestPki::new();
    let now = std::time::SystemTime::now();
    let svid = pki.issue(&LeafSpec {
        not_before: now - 2 * HOUR,
        not_after: now - HOUR,
        ..pki.spec(&pki.id(AGENT_B))
    });
    assert_client_refused(&pki, &svid, |error| {
        matches!(error, SvidError::Expired { .. })
    })
    .await;
}

#[tokio::test]
async fn a_ca_certificate_as_client_leaf() {
    let pki = TestPki::new();
    let svid = pki.issue(&LeafSpec {
        is_ca: true,
        key_usages: vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ],
        ..pki.spec(&pki.id(AGENT_B))
    });
    assert_client_refused(&pki, &svid, |error| *error == SvidError::LeafIsCa).await;
}

#[tokio::test]
async fn a_client_with_two_uri_sans() {
    let pki = TestPki::new();
    let svid = pki.issue(&LeafSpec {
        uri_sans: vec![pki.id(AGENT_B).to_string(), pki.id(AGENT_A).to_string()],
        ..pki.spec(&pki.id(AGENT_B))
    });
    assert_client_refused(&pki, &svid, |error| {
        *error == SvidError::MultipleUriSans { count: 2 }
    })
    .await;
}

#[tokio::test]
async fn a_client_in_another_namespace() {
    let pki = TestPki::new();
    // Service A2 accepts its own namespace only; Agent B lives in namespace-b.
    let policy = PeerPolicy::Namespace {
        trust_domain: pki.trust_domain.clone(),
        namespace: "namespace-a".to_owned(),
    };
    let expected = SvidError::NotAuthorized {
        peer: pki.id(AGENT_B),
    };

    let verifier = SpiffeClientCertVerifier::new(pki.source(SERVICE_A2), policy.clone());
    let direct = verifier
        .verify_client_cert(&pki.leaf(AGENT_B), &[], now())
        .unwrap_err();
    assert_eq!(svid_error(&direct), expected);

    let client = client_config(
        pki.source(AGENT_B),
        PeerPolicy::only(pki.id(SERVICE_A2)),
        ClientAlpn::Http,
    )
    .unwrap();
    let (server_error, client_error) = both_errors(&pki, SERVICE_A2, policy, client).await;
    assert_eq!(svid_error(&server_error), expected);
    assert_eq!(
        received_alert(&client_error),
        AlertDescription::CertificateUnknown
    );
}

#[tokio::test]
async fn a_client_without_a_certificate() {
    let pki = TestPki::new();
    let client = client_presenting(&pki, AGENT_A, None);
    let policy = PeerPolicy::only(pki.id(AGENT_B));
    let (server_error, client_error) = both_errors(&pki, AGENT_A, policy, client).await;
    // rustls refuses before any verifier runs, because the verifier makes client auth mandatory.
    assert_eq!(
        rustls_error(&server_error),
        Some(&rustls::Error::NoCertificatesPresented)
    );
    assert_eq!(
        received_alert(&client_error),
        AlertDescription::CertificateRequired
    );
}

#[tokio::test]
async fn a_server_the_client_does_not_allow() {
    let pki = TestPki::new();
    // Agent B means to call Agent A, but Service A2 answers.
    let client_policy = PeerPolicy::only(pki.id(AGENT_A));
    let expected = SvidError::NotAuthorized {
        peer: pki.id(SERVICE_A2),
    };

    let verifier = SpiffeServerCertVerifier::new(pki.source(AGENT_B), client_policy.clone());
    let direct = verifier
        .verify_server_cert(
            &pki.leaf(SERVICE_A2),
            &[],
            &ServerName::try_from("agent-a").unwrap(),
            &[],
            now(),
        )
        .unwrap_err();
    assert_eq!(svid_error(&direct), expected);

    let client = client_config(pki.source(AGENT_B), client_policy, ClientAlpn::Http).unwrap();
    let server_policy = PeerPolicy::only(pki.id(AGENT_B));
    let (server_error, client_error) = both_errors(&pki, SERVICE_A2, server_policy, client).await;
    assert_eq!(svid_error(&client_error), expected);
    assert_eq!(
        received_alert(&server_error),
        AlertDescription::CertificateUnknown
    );
}

#[tokio::test]
async fn a_server_from_another_ca() {
    let pki = TestPki::new();
    let impostor = TestPki::new();
    let client = client_config(
        pki.source(AGENT_B),
        PeerPolicy::only(pki.id(AGENT_A)),
        ClientAlpn::Http,
    )
    .unwrap();
    let policy = PeerPolicy::only(pki.id(AGENT_B));
    // The impostor's server does not trust our client either; the client notices first.
    let (_, client_error) = both_errors(&impostor, AGENT_A, policy, client).await;
    // Same CA name, other key: found by name, refused by signature.
    assert_eq!(
        svid_error(&client_error),
        SvidError::UntrustedChain(webpki::Error::InvalidSignatureForPublicKey)
    );
}

#[tokio::test]
async fn over_https_a_disallowed_server_fails_the_request_with_the_reason() {
    let pki = TestPki::new();
    let server = WebServer::start(
        server_config(pki.source(SERVICE_A2), PeerPolicy::only(pki.id(AGENT_B))).unwrap(),
    )
    .await;
    let client = client_config(
        pki.source(AGENT_B),
        PeerPolicy::only(pki.id(AGENT_A)),
        ClientAlpn::Http,
    )
    .unwrap();
    let error = whoami(&reqwest_client(&client), &server)
        .await
        .err()
        .unwrap();
    assert_eq!(
        svid_error(&error),
        SvidError::NotAuthorized {
            peer: pki.id(SERVICE_A2)
        }
    );
    server.stop().await;
}

#[tokio::test]
async fn over_https_a_disallowed_client_gets_no_response() {
    let pki = TestPki::new();
    let server = WebServer::start(
        server_config(pki.source(AGENT_A), PeerPolicy::only(pki.id(AGENT_B))).unwrap(),
    )
    .await;
    let client = client_config(
        pki.source(SERVICE_A2),
        PeerPolicy::only(pki.id(AGENT_A)),
        ClientAlpn::Http,
    )
    .unwrap();
    // HTTP/1.1, because HTTP/2 (the h2 crate) turns IO errors into text, losing the alert's type.
    let mut http1 = (*client).clone();
    http1.alpn_protocols = vec![b"http/1.1".to_vec()];
    let error = whoami(&reqwest_client(&http1), &server)
        .await
        .err()
        .unwrap();
    assert_eq!(received_alert(&error), AlertDescription::CertificateUnknown);
    server.stop().await;
}

#[test]
fn the_verifiers_accept_allowed_peers() {
    let pki = TestPki::new();
    let client_side =
        SpiffeServerCertVerifier::new(pki.source(AGENT_B), PeerPolicy::only(pki.id(AGENT_A)));
    let name = ServerName::try_from("agent-a").unwrap();
    assert!(
        client_side
            .verify_server_cert(&pki.leaf(AGENT_A), &[], &name, &[], now())
            .is_ok()
    );
    let server_side =
        SpiffeClientCertVerifier::new(pki.source(AGENT_A), PeerPolicy::only(pki.id(AGENT_B)));
    assert!(
        server_side
            .verify_client_cert(&pki.leaf(AGENT_B), &[], now())
            .is_ok()
    );
}

/// The acceptor's refusal hook hears of every client refused for its identity, with the reason
/// the verifier found, and of nothing else.
#[tokio::test]
async fn the_acceptor_reports_identity_refusals_to_its_hook() {
    use std::sync::Mutex;
    use workload_identity::{HandshakeRefusal, MtlsAcceptor, RefusalReason};

    let pki = TestPki::new();
    let seen: Arc<Mutex<Vec<HandshakeRefusal>>> = Arc::default();
    let record = Arc::clone(&seen);
    let acceptor = MtlsAcceptor::new(
        server_config(pki.source(AGENT_A), PeerPolicy::only(pki.id(AGENT_B))).unwrap(),
    )
    .on_refusal(move |refusal| record.lock().unwrap().push(refusal.clone()));
    let server = WebServer::start_with(acceptor, crate::support::web::whoami_router()).await;
    let wait_for = |count: usize| {
        let seen = Arc::clone(&seen);
        async move {
            for _ in 0..500 {
                if seen.lock().unwrap().len() >= count {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("the hook was not called {count} times");
        }
    };
    let http1 = |config: Arc<ClientConfig>| {
        let mut config = (*config).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        reqwest_client(&config)
    };

    // An allowed client is not reported.
    let allowed = client_config(
        pki.source(AGENT_B),
        PeerPolicy::only(pki.id(AGENT_A)),
        ClientAlpn::Http,
    )
    .unwrap();
    whoami(&http1(allowed), &server).await.unwrap();

    let anonymous = client_presenting(&pki, AGENT_A, None);
    assert!(whoami(&http1(anonymous), &server).await.is_err());
    wait_for(1).await;

    let stranger = other_ca(&pki.trust_domain)
        .issue(&pki.spec(&pki.id(AGENT_B)))
        .unwrap();
    let impostor = client_presenting(
        &pki,
        AGENT_A,
        Some((vec![stranger.cert_der().clone()], key_der(&stranger))),
    );
    assert!(whoami(&http1(impostor), &server).await.is_err());
    wait_for(2).await;

    let reasons: Vec<RefusalReason> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|refusal| {
            assert!(refusal.remote_addr.ip().is_loopback());
            refusal.reason.clone()
        })
        .collect();
    assert_eq!(
        reasons,
        [
            RefusalReason::NoCertificate,
            RefusalReason::InvalidSvid(SvidError::UntrustedChain(
                webpki::Error::InvalidSignatureForPublicKey
            )),
        ]
    );
    server.stop().await;
}
