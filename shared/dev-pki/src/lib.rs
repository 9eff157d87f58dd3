//! Creates the development trust domain: a CA and short-lived X.509-SVIDs for every workload.
//!
//! [`ensure`] is idempotent: run it before every start. It keeps valid material byte for byte,
//! issues what is missing, reissues SVIDs that expire within the renewal threshold (or all of
//! them when [`DevPkiConfig::renew`] asks for rotation), and replaces the CA, and with it every
//! SVID, when the CA is unusable, expiring, or for another trust domain. Every file is written
//! to a temporary name and renamed into place, so a workload that reloads its identity while
//! this runs reads the old file or the new one, never half of either.
//!
//! # Layout
//!
//! ```text
//! <dir>/bundle.pem                 the CA certificate: the trust bundle every workload loads
//! <dir>/ca.key.pem                 the CA's private key (0600); only this tool reads it
//! <dir>/<workload>/svid.pem        the workload's X.509-SVID: leaf first, then intermediates
//!                                  (none here: the CA signs leaves directly)
//! <dir>/<workload>/svid.key.pem    the SVID's private key, PKCS#8 (0600)
//! ```
//!
//! `<workload>` is each name in [`workload_identity::workloads::ALL`]: `web-app`, `agent-b`,
//! `agent-a`, `service-a2`, `internal-iam`; [`workload_identity::IdentityFiles::in_pki_dir`]
//! finds a workload's files.
//!
//! # Certificates
//!
//! - CA: self-signed ECDSA P-256, basicConstraints cA=true with path length 0, key usage
//!   keyCertSign and cRLSign, URI SAN `spiffe://<trust domain>` (X509-SVID.md §3.2), one year.
//!   No name constraints: rustls-webpki refuses URI name constraints it does not implement.
//! - SVID: ECDSA P-256, no subject, exactly one URI SAN (the SPIFFE ID, critical), cA=false,
//!   key usage digitalSignature (critical), extended key usage serverAuth and clientAuth,
//!   24 hours by default so a demo session does not see it expire.
//!
//! # Tests elsewhere
//!
//! [`Ca::generate`] makes an unrelated CA and [`Ca::issue`] signs any [`LeafSpec`]: expired,
//! a CA, two URI SANs, another trust domain, other key usages, for negative tests.

mod ca;
mod dates;
mod ensure;
mod error;
mod files;
mod leaf;
mod report;

pub use ca::Ca;
pub use ensure::{CA_KEY_FILE, DEFAULT_CA_TTL, DEFAULT_SVID_TTL, DevPkiConfig, ensure};
pub use error::PkiError;
pub use leaf::{IssuedSvid, LeafSpec};
pub use rcgen::KeyUsagePurpose;
pub use report::{CaReport, Outcome, Reason, Report, SvidReport};
