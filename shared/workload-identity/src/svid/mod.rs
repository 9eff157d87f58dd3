//! X.509-SVID validation (X509-SVID.md §5): path validation to the trust bundle plus the leaf
//! checks that make a certificate a SPIFFE identity.

mod bundle;
mod chain;
mod error;
pub(crate) mod leaf;

use std::time::Duration;

use rustls_pki_types::{CertificateDer, UnixTime};

pub use bundle::{BundleError, TrustBundle};
pub use error::{KeyUsageFault, SvidError};

use crate::spiffe_id::SpiffeId;

/// Which end of a TLS connection presented the certificate; decides the extended key usage the
/// path must allow (`clientAuth` or `serverAuth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRole {
    Client,
    Server,
}

/// An X.509-SVID that passed [`validate_svid`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedSvid {
    spiffe_id: SpiffeId,
    not_before: UnixTime,
    not_after: UnixTime,
}

impl ValidatedSvid {
    pub fn spiffe_id(&self) -> &SpiffeId {
        &self.spiffe_id
    }

    pub fn not_before(&self) -> UnixTime {
        self.not_before
    }

    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }
}

/// Validates `leaf` (with the `intermediates` the peer sent) as an X.509-SVID of the bundle's
/// trust domain at time `now`.
///
/// The leaf's form is checked before its chain, so the reason reported is the most specific one
/// (a CA certificate from a trusted issuer is reported as [`SvidError::LeafIsCa`], not as a path
/// error). Every check has to pass either way; the order only decides which failure is named.
pub fn validate_svid(
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    bundle: &TrustBundle,
    role: PeerRole,
    now: UnixTime,
) -> Result<ValidatedSvid, SvidError> {
    let facts = leaf::inspect(leaf)?;
    if !facts.spiffe_id.is_member_of(bundle.trust_domain()) {
        return Err(SvidError::WrongTrustDomain {
            expected: bundle.trust_domain().clone(),
            found: facts.spiffe_id.trust_domain().clone(),
        });
    }
    let now_secs = now.as_secs();
    // RFC 5280 §4.1.2.5: both bounds are inclusive.
    if i128::from(now_secs) < i128::from(facts.not_before) {
        return Err(SvidError::NotYetValid {
            not_before: facts.not_before,
            now: now_secs,
        });
    }
    if i128::from(now_secs) > i128::from(facts.not_after) {
        return Err(SvidError::Expired {
            not_after: facts.not_after,
            now: now_secs,
        });
    }
    chain::verify(leaf, intermediates, bundle, role, now)?;
    Ok(ValidatedSvid {
        spiffe_id: facts.spiffe_id,
        not_before: unix_time(facts.not_before),
        not_after: unix_time(facts.not_after),
    })
}

/// Times before 1970 clamp to the epoch; they only ever appear as a `not_before`.
fn unix_time(secs: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}
