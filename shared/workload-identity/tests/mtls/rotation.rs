//! Rotation without restart: rewritten files, `reload_now()`, and the next handshake uses them.

use std::fs;
use std::time::SystemTime;

use dev_pki::DevPkiConfig;
use workload_identity::workloads::{AGENT_A, AGENT_B};
use workload_identity::{
    ClientAlpn, IdentitySource, PeerPolicy, Reload, SvidError, client_config, server_config,
};

use crate::support::errors::svid_error;
use crate::support::pki::TestPki;
use crate::support::raw_tls::{handshake, server_leaf};
use crate::support::web::{WebServer, reqwest_client, whoami};

#[tokio::test]
async fn a_renewed_svid_is_presented_on_the_next_handshake() {
    let pki = TestPki::new();
    let server_source = pki.source(AGENT_A);
    let client_source = pki.source(AGENT_B);
    let server = WebServer::start(
        server_config(server_source.clone(), PeerPolicy::only(pki.id(AGENT_B))).unwrap(),
    )
    .await;
    let client_tls = client_config(
        client_source.clone(),
        PeerPolicy::only(pki.id(AGENT_A)),
        ClientAlpn::Http,
    )
    .unwrap();

    let old_server_leaf = pki.leaf(AGENT_A);
    let first = handshake(client_tls.clone(), server.addr).await.unwrap();
    assert_eq!(server_leaf(&first), old_server_leaf);

    pki.renew_svids();
    assert!(matches!(
        server_source.reload_now(),
        Ok(Reload::Rotated { .. })
    ));
    assert!(matches!(
        client_source.reload_now(),
        Ok(Reload::Rotated { .. })
    ));

    // The same configurations, untouched, now present the new SVIDs.
    let new_server_leaf = pki.leaf(AGENT_A);
    assert_ne!(new_server_leaf, old_server_leaf);
    let second = handshake(client_tls.clone(), server.addr).await.unwrap();
    assert_eq!(server_leaf(&second), new_server_leaf);

    let (seen, _) = whoami(&reqwest_client(&client_tls), &server).await.unwrap();
    assert_eq!(
        seen.x5t_s256,
        tokens::thumbprint::x5t_s256(&pki.leaf(AGENT_B))
    );
    assert_eq!(
        seen.x5t_s256,
        tokens::thumbprint::x5t_s256(client_source.current().leaf())
    );
    server.stop().await;
}

#[tokio::test]
async fn a_new_ca_is_trusted_after_reload_and_the_old_one_is_not() {
    let pki = TestPki::new();
    let server_source = pki.source(AGENT_A);
    let server = WebServer::start(
        server_config(server_source.clone(), PeerPolicy::only(pki.id(AGENT_B))).unwrap(),
    )
    .await;
    let client_policy = PeerPolicy::only(pki.id(AGENT_A));
    // Loaded before the CA changes and never reloaded.
    let stale_client =
        client_config(pki.source(AGENT_B), client_policy.clone(), ClientAlpn::Http).unwrap();

    // A lost CA key forces a new CA, and with it new SVIDs for everyone.
    fs::remove_file(pki.dir().join(dev_pki::CA_KEY_FILE)).unwrap();
    dev_pki::ensure(
        &DevPkiConfig::new(pki.dir(), pki.trust_domain.clone()),
        SystemTime::now(),
    )
    .unwrap();
    assert!(matches!(
        server_source.reload_now(),
        Ok(Reload::Rotated { .. })
    ));

    let fresh_client = client_config(pki.source(AGENT_B), client_policy, ClientAlpn::Http).unwrap();
    let (seen, _) = whoami(&reqwest_client(&fresh_client), &server)
        .await
        .unwrap();
    assert_eq!(seen.spiffe_id, pki.id(AGENT_B).to_string());

    // The stale client no longer trusts the server's new SVID: the new CA has the old one's
    // name but not its key.
    let error = handshake(stale_client, server.addr).await.unwrap_err();
    assert_eq!(
        svid_error(&error),
        SvidError::UntrustedChain(webpki::Error::InvalidSignatureForPublicKey)
    );
    server.stop().await;
}
