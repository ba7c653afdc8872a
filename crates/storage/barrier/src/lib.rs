//! The encrypting barrier between the logical store and physical storage.
//!
//! [`SealedBarrier`] wraps the physical [`Storage`](coffer_storage::Storage).
//! It can initialise the store (a random root key wrapped under the unseal
//! key, and a keyring wrapped under the root key) and unseal it, which yields
//! a [`Barrier`]: a [`Storage`](coffer_storage::Storage) that AES-256-GCM
//! encrypts every value with the keyring's active term and binds each value
//! to its storage key.
//!
//! Physical layout:
//! - `core/root-key`: `seal_with_key(unseal key, aad "core/root-key", root key)`
//! - `core/keyring`: `seal_with_key(root key, aad "core/keyring", keyring bytes)`
//! - everything else: `Keyring::encrypt(aad = full key, value)`
//!
//! Sealing is dropping every clone of the [`Barrier`]: the root key and every
//! keyring term live in `coffer_crypto::Secret`s, which zeroize their bytes
//! on drop (see [`Barrier`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod barrier;
mod error;
mod sealed;

pub use barrier::Barrier;
pub use coffer_crypto::KeyStatus;
pub use error::BarrierError;
pub use sealed::SealedBarrier;

/// Physical key of the root key, wrapped under the unseal key.
pub const ROOT_KEY_PATH: &str = "core/root-key";
/// Physical key of the keyring, wrapped under the root key.
pub const KEYRING_PATH: &str = "core/keyring";
/// Prefix reserved for the barrier's own bookkeeping; logical writes are refused.
pub const RESERVED_PREFIX: &str = "core/barrier/";

/// True for keys the logical layer may never read or write through the barrier.
pub fn is_reserved(key: &str) -> bool {
    key == ROOT_KEY_PATH || key == KEYRING_PATH || key.starts_with(RESERVED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_keys() {
        assert!(is_reserved("core/root-key"));
        assert!(is_reserved("core/keyring"));
        assert!(is_reserved("core/barrier/anything"));
        assert!(!is_reserved("core/mounts"));
        assert!(!is_reserved("core/keyring2"));
        assert!(!is_reserved("logical/core/keyring"));
    }
}
