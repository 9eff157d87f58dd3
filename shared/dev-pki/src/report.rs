//! What a run created, kept or renewed. Names and dates only: never key material.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use workload_identity::SpiffeId;
use workload_identity::workloads::Workload;

use crate::dates;

/// What happened to one piece of material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// There was none.
    Created,
    /// The existing one is valid and was left untouched.
    Kept,
    /// The existing one was replaced.
    Renewed(Reason),
}

/// Why existing material was replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `renew` was set: rotation.
    Requested,
    /// The CA was replaced, so everything it signed was too.
    NewCa,
    /// It would expire within the renewal threshold.
    ExpiresWithin(Duration),
    /// It was unreadable, inconsistent or invalid; the text says how.
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaReport {
    pub outcome: Outcome,
    pub not_after: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvidReport {
    pub workload: Workload,
    pub spiffe_id: SpiffeId,
    pub outcome: Outcome,
    pub not_after: SystemTime,
}

/// The result of [`ensure`](crate::ensure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub dir: PathBuf,
    pub ca: CaReport,
    pub svids: Vec<SvidReport>,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Created => f.write_str("created"),
            Self::Kept => f.write_str("kept"),
            Self::Renewed(Reason::Requested) => f.write_str("renewed (requested)"),
            Self::Renewed(Reason::NewCa) => f.write_str("renewed (new CA)"),
            Self::Renewed(Reason::ExpiresWithin(threshold)) => {
                write!(
                    f,
                    "renewed (expires within {}h)",
                    threshold.as_secs() / 3600
                )
            }
            Self::Renewed(Reason::Invalid(why)) => write!(f, "replaced ({why})"),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dev PKI in {}", self.dir.display())?;
        writeln!(
            f,
            "  {:<14} {:<50} {} (until {})",
            "CA",
            "bundle.pem",
            self.ca.outcome,
            dates::display(self.ca.not_after)
        )?;
        for svid in &self.svids {
            writeln!(
                f,
                "  {:<14} {:<50} {} (until {})",
                svid.workload.name(),
                svid.spiffe_id.as_str(),
                svid.outcome,
                dates::display(svid.not_after)
            )?;
        }
        Ok(())
    }
}
