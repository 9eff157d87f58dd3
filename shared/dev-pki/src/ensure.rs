//! Brings a directory to a complete, valid dev trust domain, touching only what needs it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustls_pki_types::UnixTime;
use workload_identity::workloads::{self, Workload};
use workload_identity::{BUNDLE_FILE, Identity, IdentityFiles, TrustDomain};

use crate::ca::Ca;
use crate::error::PkiError;
use crate::files::{Access, keep_private, read_if_present, write_atomically};
use crate::leaf::LeafSpec;
use crate::report::{CaReport, Outcome, Reason, Report, SvidReport};

/// File name of the CA's private key in the PKI directory.
pub const CA_KEY_FILE: &str = "ca.key.pem";
/// Long enough that a demo session never outlives an SVID.
pub const DEFAULT_SVID_TTL: Duration = Duration::from_secs(24 * 3600);
/// The dev CA lives a year; it is replaced (with every SVID) when it could no longer cover a
/// fresh SVID.
pub const DEFAULT_CA_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// What [`ensure`] should produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevPkiConfig {
    pub dir: PathBuf,
    pub trust_domain: TrustDomain,
    pub svid_ttl: Duration,
    /// SVIDs that expire sooner than this are reissued.
    pub renew_before: Duration,
    pub ca_ttl: Duration,
    /// Reissue every SVID even if still valid (rotation). The CA is kept.
    pub renew: bool,
}

impl DevPkiConfig {
    /// Defaults: 24-hour SVIDs, reissued in their last 12 hours; a one-year CA.
    pub fn new(dir: impl Into<PathBuf>, trust_domain: TrustDomain) -> Self {
        Self {
            dir: dir.into(),
            trust_domain,
            svid_ttl: DEFAULT_SVID_TTL,
            renew_before: DEFAULT_SVID_TTL / 2,
            ca_ttl: DEFAULT_CA_TTL,
            renew: false,
        }
    }

    /// Sets the SVID lifetime, and the renewal threshold to half of it.
    pub fn with_svid_ttl(mut self, ttl: Duration) -> Self {
        self.svid_ttl = ttl;
        self.renew_before = ttl / 2;
        self
    }
}

/// Makes sure `config.dir` holds a usable CA and an SVID for every well-known workload, as of
/// `now`. Valid material is kept byte for byte; missing, invalid or soon-expiring material is
/// (re)issued; a new CA means new SVIDs for all.
pub fn ensure(config: &DevPkiConfig, now: SystemTime) -> Result<Report, PkiError> {
    std::fs::create_dir_all(&config.dir).map_err(PkiError::io(&config.dir))?;
    let (ca, ca_outcome) = ensure_ca(config, now)?;
    let new_ca = ca_outcome != Outcome::Kept;
    let svids = workloads::ALL
        .into_iter()
        .map(|workload| ensure_svid(config, &ca, workload, new_ca, now))
        .collect::<Result<_, _>>()?;
    Ok(Report {
        dir: config.dir.clone(),
        ca: CaReport {
            outcome: ca_outcome,
            not_after: ca.not_after(),
        },
        svids,
    })
}

fn ensure_ca(config: &DevPkiConfig, now: SystemTime) -> Result<(Ca, Outcome), PkiError> {
    let bundle_path = config.dir.join(BUNDLE_FILE);
    let key_path = config.dir.join(CA_KEY_FILE);
    let existing = (read_if_present(&bundle_path)?, read_if_present(&key_path)?);
    let outcome = match existing {
        (None, None) => Outcome::Created,
        (Some(cert), Some(key)) => match usable_ca(config, &cert, &key, now) {
            Ok(ca) => {
                keep_private(&key_path)?;
                return Ok((ca, Outcome::Kept));
            }
            Err(why) => Outcome::Renewed(Reason::Invalid(why)),
        },
        (None, Some(_)) => Outcome::Renewed(Reason::Invalid(format!("{BUNDLE_FILE} is missing"))),
        (Some(_), None) => Outcome::Renewed(Reason::Invalid(format!("{CA_KEY_FILE} is missing"))),
    };
    let ca = Ca::generate(&config.trust_domain, now, config.ca_ttl)?;
    // Key first: a bundle whose key is missing would be replaced again on the next run.
    write_atomically(&key_path, ca.key_pem().as_bytes(), Access::Private)?;
    write_atomically(&bundle_path, ca.cert_pem().as_bytes(), Access::Public)?;
    Ok((ca, outcome))
}

fn usable_ca(
    config: &DevPkiConfig,
    cert: &[u8],
    key: &[u8],
    now: SystemTime,
) -> Result<Ca, String> {
    let cert = std::str::from_utf8(cert).map_err(|_| format!("{BUNDLE_FILE} is not text"))?;
    let key = std::str::from_utf8(key).map_err(|_| format!("{CA_KEY_FILE} is not text"))?;
    let ca = Ca::from_pem(&config.trust_domain, cert, key).map_err(|error| error.to_string())?;
    if ca.not_before() > now {
        return Err("the CA is not valid yet".to_owned());
    }
    // Every SVID issued now must expire before its CA does.
    if now
        .checked_add(config.svid_ttl)
        .is_none_or(|end| ca.not_after() < end)
    {
        return Err("the CA expires before a new SVID would".to_owned());
    }
    Ok(ca)
}

fn ensure_svid(
    config: &DevPkiConfig,
    ca: &Ca,
    workload: Workload,
    new_ca: bool,
    now: SystemTime,
) -> Result<SvidReport, PkiError> {
    let spiffe_id = workload.spiffe_id(&config.trust_domain);
    let files = IdentityFiles::in_pki_dir(&config.dir, workload.name());
    let outcome = match existing_svid(config, ca, &files, workload, new_ca, now)? {
        Existing::Usable { not_after } => {
            keep_private(&files.key)?;
            return Ok(SvidReport {
                workload,
                spiffe_id,
                outcome: Outcome::Kept,
                not_after,
            });
        }
        Existing::Replace(outcome) => outcome,
    };
    let spec = LeafSpec::svid(&spiffe_id, now, config.svid_ttl);
    ca.issue(&spec)?.write_to(&workload_dir(&files))?;
    Ok(SvidReport {
        workload,
        spiffe_id,
        outcome,
        not_after: spec.not_after,
    })
}

enum Existing {
    Usable { not_after: SystemTime },
    Replace(Outcome),
}

fn existing_svid(
    config: &DevPkiConfig,
    ca: &Ca,
    files: &IdentityFiles,
    workload: Workload,
    new_ca: bool,
    now: SystemTime,
) -> Result<Existing, PkiError> {
    let invalid = |why: String| Ok(Existing::Replace(Outcome::Renewed(Reason::Invalid(why))));
    let (svid, key) = match (read_if_present(&files.svid)?, read_if_present(&files.key)?) {
        (None, None) => return Ok(Existing::Replace(Outcome::Created)),
        (Some(svid), Some(key)) => (svid, key),
        (None, Some(_)) => return invalid(format!("{} is missing", files.svid.display())),
        (Some(_), None) => return invalid(format!("{} is missing", files.key.display())),
    };
    if new_ca {
        return Ok(Existing::Replace(Outcome::Renewed(Reason::NewCa)));
    }
    if config.renew {
        return Ok(Existing::Replace(Outcome::Renewed(Reason::Requested)));
    }
    // The same validation a workload applies when it loads these files.
    let identity = match Identity::from_pem(
        &svid,
        &key,
        ca.cert_pem().as_bytes(),
        UnixTime::since_unix_epoch(since_epoch(now)),
    ) {
        Ok(identity) => identity,
        Err(error) => return invalid(error.to_string()),
    };
    let expected = workload.spiffe_id(&config.trust_domain);
    if identity.spiffe_id() != &expected {
        return invalid(format!("it names {}, not {expected}", identity.spiffe_id()));
    }
    let not_after = SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(identity.svid().not_after().as_secs()))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    if now
        .checked_add(config.renew_before)
        .is_none_or(|threshold| not_after < threshold)
    {
        return Ok(Existing::Replace(Outcome::Renewed(Reason::ExpiresWithin(
            config.renew_before,
        ))));
    }
    Ok(Existing::Usable { not_after })
}

fn since_epoch(now: SystemTime) -> Duration {
    now.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

fn workload_dir(files: &IdentityFiles) -> PathBuf {
    files
        .svid
        .parent()
        .map_or_else(PathBuf::new, Path::to_path_buf)
}
