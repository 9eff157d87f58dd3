//! SPIFFE IDs, X.509-SVID validation and mutual-TLS configurations that authorize peers by SPIFFE ID.
//!
//! Every internal connection of the system is mutual TLS between workloads that each hold an
//! X.509-SVID, a short-lived certificate whose single URI SAN is the workload's SPIFFE ID,
//! `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. This crate is that layer:
//!
//! - [`SpiffeId`] and [`TrustDomain`] cannot hold an ID the SPIFFE spec forbids;
//!   [`workloads`] names the system's workloads once.
//! - [`validate_svid`] is X509-SVID.md §5: exactly one URI SAN holding a valid SPIFFE ID in the
//!   bundle's trust domain, a leaf (not a CA) whose key usage allows signing handshakes but not
//!   certificates, inside its validity window, and a chain to the trust bundle (checked by
//!   rustls' own path validator). Each failure is its own [`SvidError`] variant.
//! - [`PeerPolicy`] says which SPIFFE IDs an endpoint accepts; there is no "anyone" policy.
//! - [`server_config`] and [`client_config`] are TLS 1.3 configurations whose verifiers apply both,
//!   in place of hostname verification, on every handshake.
//! - [`FileSource`] loads the SVID, key and bundle from files and reloads them when they change,
//!   so rotation needs no restart.
//! - [`serve`] (axum) and [`MtlsAcceptor::incoming`] (tonic) accept connections and give every
//!   request the verified [`PeerIdentity`], including the certificate thumbprint that
//!   certificate-bound tokens are checked against; [`MtlsConnector`] dials tonic channels.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use workload_identity::{
//!     FileSource, IdentityFiles, PeerIdentity, PeerPolicy, TrustDomain, workloads,
//! };
//!
//! let source = FileSource::load(IdentityFiles::in_pki_dir("var/pki", workloads::AGENT_A.name()))?;
//! let _reloader = source.spawn_reloader(workload_identity::DEFAULT_RELOAD_INTERVAL);
//! let trust_domain = TrustDomain::new(workloads::DEV_TRUST_DOMAIN)?;
//! let policy = PeerPolicy::only(workloads::AGENT_B.spiffe_id(&trust_domain));
//! let tls = workload_identity::server_config(source, policy)?;
//!
//! let router = axum::Router::new().route(
//!     "/whoami",
//!     axum::routing::get(|peer: PeerIdentity| async move { peer.spiffe_id().to_string() }),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! workload_identity::serve(listener, tls, router, std::future::pending()).await;
//! # Ok(())
//! # }
//! ```

mod client;
mod crypto;
mod identity;
mod peer;
mod policy;
mod server;
mod source;
mod spiffe_id;
mod svid;
mod tls;
pub mod workloads;

pub use client::{MtlsConnector, grpc_channel_lazy};
pub use identity::{Identity, IdentityError, IdentitySource};
pub use peer::PeerIdentity;
pub use policy::PeerPolicy;
pub use server::{
    DEFAULT_HANDSHAKE_TIMEOUT, HandshakeRefusal, MtlsAcceptor, MtlsIncoming, MtlsStream,
    NoPeerIdentity, RefusalHook, RefusalReason, serve,
};
pub use source::{
    BUNDLE_FILE, DEFAULT_RELOAD_INTERVAL, FileSource, IdentityFiles, LoadError, ReadError, Reload,
    SVID_FILE, SVID_KEY_FILE,
};
pub use spiffe_id::{
    MAX_SPIFFE_ID_LEN, MAX_TRUST_DOMAIN_LEN, SpiffeId, SpiffeIdError, TrustDomain,
};
pub use svid::{
    BundleError, KeyUsageFault, PeerRole, SvidError, TrustBundle, ValidatedSvid, validate_svid,
};
pub use tls::{
    ClientAlpn, SpiffeClientCertVerifier, SpiffeServerCertVerifier, client_config, server_config,
};
