//! Where a workload's identity files live, and how to tell that they changed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// File name of the trust bundle (PEM CA certificates) in a PKI directory.
pub const BUNDLE_FILE: &str = "bundle.pem";
/// File name of a workload's SVID chain (PEM, leaf first) in its directory.
pub const SVID_FILE: &str = "svid.pem";
/// File name of a workload's private key (PEM PKCS#8) in its directory.
pub const SVID_KEY_FILE: &str = "svid.key.pem";

/// The three files that make up a workload's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFiles {
    pub svid: PathBuf,
    pub key: PathBuf,
    pub bundle: PathBuf,
}

/// The contents of [`IdentityFiles`], read together.
pub(crate) struct IdentityBytes {
    pub(crate) svid: Vec<u8>,
    pub(crate) key: Vec<u8>,
    pub(crate) bundle: Vec<u8>,
}

/// A file read failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl IdentityFiles {
    /// The dev PKI layout: `<dir>/bundle.pem`, `<dir>/<workload>/svid.pem` and
    /// `<dir>/<workload>/svid.key.pem`.
    pub fn in_pki_dir(dir: impl AsRef<Path>, workload: &str) -> Self {
        let dir = dir.as_ref();
        Self {
            svid: dir.join(workload).join(SVID_FILE),
            key: dir.join(workload).join(SVID_KEY_FILE),
            bundle: dir.join(BUNDLE_FILE),
        }
    }

    pub(crate) fn read(&self) -> Result<IdentityBytes, ReadError> {
        let read = |path: &Path| {
            fs::read(path).map_err(|source| ReadError {
                path: path.to_owned(),
                source,
            })
        };
        Ok(IdentityBytes {
            svid: read(&self.svid)?,
            key: read(&self.key)?,
            bundle: read(&self.bundle)?,
        })
    }

    /// What the file system says about the three files; `None` if one cannot be inspected.
    ///
    /// Metadata follows symlinks, so a Kubernetes secret volume, which swaps a `..data` symlink
    /// to a new directory, shows up as new inodes.
    pub(crate) fn stamps(&self) -> Option<[FileStamp; 3]> {
        Some([
            FileStamp::of(&self.svid)?,
            FileStamp::of(&self.key)?,
            FileStamp::of(&self.bundle)?,
        ])
    }
}

/// Enough metadata to notice a rewrite: a rename-over changes the inode, an in-place write the
/// length or modification time. No content is kept, so no key material stays in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: (u64, u64),
}

impl FileStamp {
    fn of(path: &Path) -> Option<Self> {
        let metadata = fs::metadata(path).ok()?;
        Some(Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode: inode(&metadata),
        })
    }
}

#[cfg(unix)]
fn inode(metadata: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    (metadata.dev(), metadata.ino())
}

#[cfg(not(unix))]
fn inode(_metadata: &fs::Metadata) -> (u64, u64) {
    (0, 0)
}
