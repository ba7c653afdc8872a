//! Storage errors.

use coffer_types::{Error, ErrorKind};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The key is not a valid storage key (client-supplied path problems land here).
    #[error("invalid storage key: {0}")]
    InvalidKey(String),
    /// The physical backend failed (I/O, database error).
    #[error("storage backend error: {0}")]
    Backend(String),
    /// A stored value failed to decrypt or authenticate: it was tampered with,
    /// moved to another key, or written under an unknown key term.
    #[error("stored value at {key} failed integrity check: {reason}")]
    Integrity {
        /// The key whose value failed.
        key: String,
        /// What failed.
        reason: String,
    },
    /// The barrier is sealed.
    #[error("Vault is sealed")]
    Sealed,
}

impl StorageError {
    /// The error kind, which decides the HTTP status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StorageError::InvalidKey(_) => ErrorKind::InvalidRequest,
            StorageError::Backend(_) | StorageError::Integrity { .. } => ErrorKind::Internal,
            StorageError::Sealed => ErrorKind::Sealed,
        }
    }
}

impl From<StorageError> for Error {
    fn from(err: StorageError) -> Self {
        Error::new(err.kind(), err.to_string())
    }
}
