//! rustls certificate verifiers that authenticate a peer by its X.509-SVID and authorize it by
//! its SPIFFE ID, in place of hostname verification.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, PeerIncompatible,
    SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tracing::warn;

use crate::crypto;
use crate::identity::IdentitySource;
use crate::policy::PeerPolicy;
use crate::spiffe_id::SpiffeId;
use crate::svid::{self, PeerRole, SvidError};

/// What both verifiers do; they differ only in the role of the peer.
#[derive(Debug)]
struct PeerVerifier {
    source: Arc<dyn IdentitySource>,
    policy: PeerPolicy,
    role: PeerRole,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PeerVerifier {
    fn new(source: Arc<dyn IdentitySource>, policy: PeerPolicy, role: PeerRole) -> Self {
        Self {
            source,
            policy,
            role,
            algorithms: crypto::provider().signature_verification_algorithms,
        }
    }

    /// The peer's SVID against the *current* bundle (so a rotated bundle applies to the next
    /// handshake), then the policy.
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<SpiffeId, SvidError> {
        let identity = self.source.current();
        let svid =
            svid::validate_svid(end_entity, intermediates, identity.bundle(), self.role, now)?;
        self.policy.authorize(svid.spiffe_id())?;
        Ok(svid.spiffe_id().clone())
    }

    fn verify_for_rustls(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        self.verify(end_entity, intermediates, now)
            .map(drop)
            .map_err(|error| {
                // Logged here, where the reason is known; the peer only gets a generic alert.
                warn!(peer_role = ?self.role, reason = %error, "refused peer certificate");
                rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                    error,
                ))))
            })
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
}

/// The configurations built here speak only TLS 1.3; should one of these verifiers end up in a
/// configuration that allows 1.2, the handshake fails instead of silently downgrading.
fn refuse_tls12() -> Result<HandshakeSignatureValid, rustls::Error> {
    Err(rustls::Error::PeerIncompatible(
        PeerIncompatible::Tls12NotOffered,
    ))
}

/// Verifies a server's X.509-SVID on a client connection and authorizes its SPIFFE ID.
#[derive(Debug)]
pub struct SpiffeServerCertVerifier(PeerVerifier);

impl SpiffeServerCertVerifier {
    pub fn new(source: Arc<dyn IdentitySource>, policy: PeerPolicy) -> Self {
        Self(PeerVerifier::new(source, policy, PeerRole::Server))
    }
}

impl ServerCertVerifier for SpiffeServerCertVerifier {
    /// `server_name` is not checked: a SPIFFE server is identified by its URI SAN, which the
    /// policy authorizes; a DNS name would say where it runs, not who it is.
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0
            .verify_for_rustls(end_entity, intermediates, now)
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        refuse_tls12()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.algorithms.supported_schemes()
    }
}

/// Requires and verifies a client's X.509-SVID on a server connection and authorizes its
/// SPIFFE ID.
#[derive(Debug)]
pub struct SpiffeClientCertVerifier(PeerVerifier);

impl SpiffeClientCertVerifier {
    pub fn new(source: Arc<dyn IdentitySource>, policy: PeerPolicy) -> Self {
        Self(PeerVerifier::new(source, policy, PeerRole::Client))
    }
}

impl ClientCertVerifier for SpiffeClientCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    /// Zero trust: a connection without a client certificate is refused during the handshake,
    /// before any request is read.
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// No CA name hints: they are optional, the bundle can rotate while this verifier lives,
    /// and every client here has exactly one SVID to present anyway.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.0
            .verify_for_rustls(end_entity, intermediates, now)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        refuse_tls12()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.algorithms.supported_schemes()
    }
}
