//! Atomic file writes, so that a workload reloading its identity never reads half a file.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::Path;

use crate::error::PkiError;

/// Whether a file may be read by others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Certificates and bundles: public by nature.
    Public,
    /// Private keys: owner only (0600).
    Private,
}

impl Access {
    #[cfg(unix)]
    fn mode(self) -> u32 {
        match self {
            Self::Public => 0o644,
            Self::Private => 0o600,
        }
    }
}

/// Writes `contents` to a temporary file beside `path`, created with its final permissions (a
/// key is never readable by others, not even briefly), flushes it to disk, then renames it over
/// `path`: readers see the old file or the new one, never a mix.
pub(crate) fn write_atomically(
    path: &Path,
    contents: &[u8],
    access: Access,
) -> Result<(), PkiError> {
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| {
            PkiError::io(path)(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a file path",
            ))
        })?;
    // Per process, so two runs at once do not write into each other's file.
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    // A leftover from an interrupted run would keep its old permissions if reopened.
    match fs::remove_file(&temporary) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(PkiError::io(&temporary)(error)),
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(access.mode());
    }
    #[cfg(not(unix))]
    let _ = access;
    let mut file = options.open(&temporary).map_err(PkiError::io(&temporary))?;
    file.write_all(contents).map_err(PkiError::io(&temporary))?;
    file.sync_all().map_err(PkiError::io(&temporary))?;
    drop(file);
    fs::rename(&temporary, path).map_err(PkiError::io(path))
}

/// Tightens a kept key file's permissions to 0600 if something loosened them; the contents and
/// modification time stay the same, so watching workloads see no change.
pub(crate) fn keep_private(path: &Path) -> Result<(), PkiError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(path)
            .map_err(PkiError::io(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(Access::Private.mode()))
                .map_err(PkiError::io(path))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The file's contents, or `None` if it does not exist.
pub(crate) fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, PkiError> {
    match fs::read(path) {
        Ok(contents) => Ok(Some(contents)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(PkiError::io(path)(error)),
    }
}
