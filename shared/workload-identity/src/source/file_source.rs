//! An identity source that reads files and re-reads them when they change, so that rotating an
//! SVID or a trust bundle needs no restart.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rustls_pki_types::UnixTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tracing::{error, info};

use super::files::{FileStamp, IdentityFiles, ReadError};
use crate::identity::{Identity, IdentityError, IdentitySource};
use crate::spiffe_id::SpiffeId;

/// A sensible polling interval: SVIDs live for hours, so seconds of delay do not matter.
pub const DEFAULT_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// Why the identity files could not be (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(
        "the SVID now names {new}, not {current}; a workload keeps its identity until restarted"
    )]
    SpiffeIdChanged { current: SpiffeId, new: SpiffeId },
}

/// What [`FileSource::reload_now`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    /// The files hold the identity already in use.
    Unchanged,
    /// A new SVID or bundle is in use from the next handshake on.
    Rotated { not_after: UnixTime },
}

/// Identity read from [`IdentityFiles`]; the current value is swapped atomically on reload, and
/// a file that fails to load leaves the current identity in place.
#[derive(Debug)]
pub struct FileSource {
    files: IdentityFiles,
    current: watch::Sender<Arc<Identity>>,
    /// Metadata of the files at the last load attempt, successful or not, so that the poller
    /// retries (and logs) a broken file once per change rather than on every tick.
    last_attempt: Mutex<Option<[FileStamp; 3]>>,
}

impl FileSource {
    /// Loads the identity; fails if it cannot, since a workload cannot start without one.
    pub fn load(files: IdentityFiles) -> Result<Arc<Self>, LoadError> {
        // Metadata before contents: a write that lands in between is seen as a change next time.
        let stamps = files.stamps();
        let identity = read_identity(&files)?;
        info!(
            spiffe_id = %identity.spiffe_id(),
            not_after = identity.svid().not_after().as_secs(),
            "workload identity loaded"
        );
        Ok(Arc::new(Self {
            files,
            current: watch::Sender::new(Arc::new(identity)),
            last_attempt: Mutex::new(stamps),
        }))
    }

    pub fn files(&self) -> &IdentityFiles {
        &self.files
    }

    /// Notified after every rotation.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Identity>> {
        self.current.subscribe()
    }

    /// Reads and validates the files now, and swaps them in if they hold a new SVID or bundle.
    /// On error the current identity stays in use and the error is logged.
    pub fn reload_now(&self) -> Result<Reload, LoadError> {
        *self.last_attempt() = self.files.stamps();
        let result = self.swap_in_files();
        if let Err(error) = &result {
            error!(
                %error,
                svid = %self.files.svid.display(),
                "identity files could not be loaded; keeping the current identity"
            );
        }
        result
    }

    /// Polls the files every `every` and reloads them when their metadata changes. The task ends
    /// when the source is dropped.
    ///
    /// Polling rather than inotify: Kubernetes updates secret volumes by swapping a symlink to a
    /// new directory, which file watches on the old paths miss or report inconsistently, while
    /// a stat through the path always sees the current target.
    pub fn spawn_reloader(self: &Arc<Self>, every: Duration) -> JoinHandle<()> {
        let source = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(source) = source.upgrade() else {
                    break;
                };
                // File IO blocks, so it stays off the async worker threads.
                if tokio::task::spawn_blocking(move || source.reload_if_changed())
                    .await
                    .is_err()
                {
                    break;
                }
            }
        })
    }

    fn reload_if_changed(&self) {
        if self.files.stamps() != *self.last_attempt() {
            // Errors are logged by `reload_now`.
            let _ = self.reload_now();
        }
    }

    fn swap_in_files(&self) -> Result<Reload, LoadError> {
        let new = read_identity(&self.files)?;
        let current = self.current();
        if new.spiffe_id() != current.spiffe_id() {
            return Err(LoadError::SpiffeIdChanged {
                current: current.spiffe_id().clone(),
                new: new.spiffe_id().clone(),
            });
        }
        if new.leaf() == current.leaf() && new.bundle().roots() == current.bundle().roots() {
            return Ok(Reload::Unchanged);
        }
        let not_after = new.svid().not_after();
        self.current.send_replace(Arc::new(new));
        info!(
            spiffe_id = %current.spiffe_id(),
            not_after = not_after.as_secs(),
            "workload identity rotated"
        );
        Ok(Reload::Rotated { not_after })
    }

    fn last_attempt(&self) -> MutexGuard<'_, Option<[FileStamp; 3]>> {
        // The guarded value is plain data, valid whatever a panicking holder was doing.
        self.last_attempt
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl IdentitySource for FileSource {
    fn current(&self) -> Arc<Identity> {
        Arc::clone(&self.current.borrow())
    }
}

fn read_identity(files: &IdentityFiles) -> Result<Identity, LoadError> {
    let bytes = files.read()?;
    Ok(Identity::from_pem(
        &bytes.svid,
        &bytes.key,
        &bytes.bundle,
        UnixTime::now(),
    )?)
}
