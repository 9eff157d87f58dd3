//! RFC 5280 path validation to the trust bundle (X509-SVID.md §5.1), by rustls' own validator.

use rustls_pki_types::{CertificateDer, UnixTime};

use super::PeerRole;
use super::bundle::TrustBundle;
use super::error::SvidError;
use crate::crypto;

/// Verifies signatures, validity dates of every certificate on the path, CA constraints and the
/// extended key usage for `role`. No hostname is checked: SPIFFE peers are named by URI SAN.
///
/// No revocation lists: SVIDs live for hours and are rotated, so expiry does the job revocation
/// would (the SPIFFE model).
pub(crate) fn verify(
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    bundle: &TrustBundle,
    role: PeerRole,
    now: UnixTime,
) -> Result<(), SvidError> {
    let end_entity = webpki::EndEntityCert::try_from(leaf).map_err(SvidError::UntrustedChain)?;
    let usage = match role {
        PeerRole::Client => webpki::KeyUsage::client_auth(),
        PeerRole::Server => webpki::KeyUsage::server_auth(),
    };
    end_entity
        .verify_for_usage(
            crypto::provider().signature_verification_algorithms.all,
            bundle.anchors(),
            intermediates,
            now,
            usage,
            None,
            None,
        )
        .map(drop)
        .map_err(SvidError::UntrustedChain)
}
