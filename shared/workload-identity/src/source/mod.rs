//! Identity sources: where a workload's current SVID, key and trust bundle come from.

mod file_source;
mod files;

pub use file_source::{DEFAULT_RELOAD_INTERVAL, FileSource, LoadError, Reload};
pub use files::{BUNDLE_FILE, IdentityFiles, ReadError, SVID_FILE, SVID_KEY_FILE};
