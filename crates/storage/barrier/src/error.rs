//! Barrier errors. Messages name keys but never contain plaintext or key material.

use coffer_crypto::CryptoError;
use coffer_storage::StorageError;

/// Why a barrier operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BarrierError {
    /// `initialize` was called on an initialised store.
    #[error("Vault is already initialized")]
    AlreadyInitialized,
    /// The store has not been initialised yet.
    #[error("Vault is not initialized")]
    NotInitialized,
    /// The unseal key does not open the root key.
    #[error("Unseal failed, invalid key")]
    InvalidKey,
    /// The key is reserved for the barrier's own records.
    #[error("{0} is reserved for the barrier")]
    ReservedKey(String),
    /// A stored value failed to decrypt or authenticate.
    #[error("stored value at {key} failed integrity check: {reason}")]
    Integrity {
        /// The storage key whose value failed.
        key: String,
        /// What failed (never plaintext).
        reason: String,
    },
    /// The stored root key or keyring is malformed.
    #[error("barrier data is corrupt: {0}")]
    Corrupt(String),
    /// A cryptographic operation failed (e.g. the random number generator).
    #[error("barrier crypto failure: {0}")]
    Crypto(#[from] CryptoError),
    /// The physical storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

coffer_types::error_kinds! {
    BarrierError {
        AlreadyInitialized | InvalidKey | ReservedKey(_) => InvalidRequest,
        NotInitialized => NotInitialized,
        Integrity { .. } | Corrupt(_) | Crypto(_) => Internal,
        Storage(e) => e.kind(),
    }
}

impl From<BarrierError> for StorageError {
    fn from(err: BarrierError) -> Self {
        match err {
            BarrierError::Storage(e) => e,
            BarrierError::Integrity { key, reason } => StorageError::Integrity { key, reason },
            BarrierError::ReservedKey(key) => {
                StorageError::InvalidKey(format!("{key} is reserved for the barrier"))
            }
            other => StorageError::Backend(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_storage_conversion() {
        assert_eq!(BarrierError::InvalidKey.kind().status(), 400);
        assert_eq!(BarrierError::AlreadyInitialized.kind().status(), 400);
        assert_eq!(BarrierError::NotInitialized.kind().status(), 501);
        let integrity = BarrierError::Integrity {
            key: "a/b".into(),
            reason: "message authentication failed".into(),
        };
        assert_eq!(integrity.kind().status(), 500);
        match StorageError::from(integrity) {
            StorageError::Integrity { key, .. } => assert_eq!(key, "a/b"),
            other => panic!("unexpected {other:?}"),
        }
        let reserved = StorageError::from(BarrierError::ReservedKey("core/keyring".into()));
        assert!(matches!(reserved, StorageError::InvalidKey(_)));
        assert_eq!(reserved.kind().status(), 400);
        let e: coffer_types::Error = BarrierError::InvalidKey.into();
        assert_eq!(e.messages(), ["Unseal failed, invalid key"]);
        let sealed = BarrierError::Storage(StorageError::Sealed);
        assert_eq!(sealed.kind().status(), 503);
    }
}
