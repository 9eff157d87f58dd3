//! What can go wrong while making the dev PKI.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the CA cannot be used: {0}")]
    UnusableCa(String),
    #[error("{0} is outside the range of certificate dates")]
    TimeOutOfRange(&'static str),
}

impl PkiError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
