//! Storage errors.

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

coffer_types::error_kinds! {
    StorageError {
        InvalidKey(_) => InvalidRequest,
        Backend(_) | Integrity { .. } => Internal,
        Sealed => Sealed,
    }
}
