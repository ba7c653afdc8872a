//! The sealed barrier: initialisation and unsealing.

use std::sync::Arc;
use std::time::SystemTime;

use coffer_crypto::{CryptoError, Keyring, Secret, open_with_key, random_key, seal_with_key};
use coffer_storage::{Key, Storage, WriteOp};

use crate::{Barrier, BarrierError, KEYRING_PATH, ROOT_KEY_PATH};

/// The barrier before unsealing: it can tell whether the store is
/// initialised, initialise it, and unseal it into a [`Barrier`]. It holds no
/// key material.
pub struct SealedBarrier {
    physical: Arc<dyn Storage>,
    /// Serialises `initialize` calls so two can't both pass the emptiness check.
    init_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for SealedBarrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedBarrier").finish_non_exhaustive()
    }
}

pub(crate) fn storage_key(path: &str) -> Result<Key, BarrierError> {
    Ok(Key::new(path)?)
}

/// Opens the stored root key with `unseal_key`.
pub(crate) async fn open_root_key(
    physical: &dyn Storage,
    unseal_key: &Secret<[u8; 32]>,
) -> Result<Secret<[u8; 32]>, BarrierError> {
    let sealed = physical
        .get(&storage_key(ROOT_KEY_PATH)?)
        .await?
        .ok_or(BarrierError::NotInitialized)?;
    let plain = open_with_key(unseal_key.expose(), ROOT_KEY_PATH.as_bytes(), &sealed).map_err(
        |e| match e {
            CryptoError::Decrypt => BarrierError::InvalidKey,
            other => BarrierError::Corrupt(format!("root key: {other}")),
        },
    )?;
    to_key(plain.expose(), "root key")
}

/// Copies 32 key bytes into a fresh [`Secret`].
fn to_key(bytes: &[u8], what: &str) -> Result<Secret<[u8; 32]>, BarrierError> {
    let mut key = Secret::new([0u8; 32]);
    if bytes.len() != key.expose().len() {
        return Err(BarrierError::Corrupt(format!(
            "{what} has the wrong length"
        )));
    }
    key.expose_mut().copy_from_slice(bytes);
    Ok(key)
}

/// Seals the keyring under the root key, ready to store at [`KEYRING_PATH`].
pub(crate) fn seal_keyring(
    root_key: &Secret<[u8; 32]>,
    keyring: &Keyring,
) -> Result<Vec<u8>, BarrierError> {
    let bytes = keyring.to_bytes();
    Ok(seal_with_key(
        root_key.expose(),
        KEYRING_PATH.as_bytes(),
        bytes.expose(),
    )?)
}

impl SealedBarrier {
    /// A sealed barrier over `physical` storage.
    pub fn new(physical: Arc<dyn Storage>) -> Self {
        Self {
            physical,
            init_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// True once a root key has been stored.
    pub async fn is_initialized(&self) -> Result<bool, BarrierError> {
        Ok(self
            .physical
            .get(&storage_key(ROOT_KEY_PATH)?)
            .await?
            .is_some())
    }

    /// Generates a random 32-byte root key and a keyring (term 1) and stores
    /// both, wrapped (`core/root-key` under the unseal key, `core/keyring`
    /// under the root key), in one atomic batch. Errors if already initialised.
    pub async fn initialize(
        &self,
        unseal_key: &Secret<[u8; 32]>,
        now: SystemTime,
    ) -> Result<(), BarrierError> {
        let _guard = self.init_lock.lock().await;
        let root_path = storage_key(ROOT_KEY_PATH)?;
        let keyring_path = storage_key(KEYRING_PATH)?;
        if self.physical.get(&root_path).await?.is_some()
            || self.physical.get(&keyring_path).await?.is_some()
        {
            return Err(BarrierError::AlreadyInitialized);
        }
        let root_key = random_key()?;
        let keyring = Keyring::generate(now)?;
        let sealed_root = seal_with_key(
            unseal_key.expose(),
            ROOT_KEY_PATH.as_bytes(),
            root_key.expose(),
        )?;
        let sealed_keyring = seal_keyring(&root_key, &keyring)?;
        self.physical
            .write_batch(vec![
                WriteOp::Put(root_path, sealed_root),
                WriteOp::Put(keyring_path, sealed_keyring),
            ])
            .await?;
        Ok(())
    }

    /// Opens the root key with the unseal key (a wrong key gives
    /// [`BarrierError::InvalidKey`]), then the keyring, and returns the
    /// unsealed [`Barrier`].
    pub async fn unseal(&self, unseal_key: &Secret<[u8; 32]>) -> Result<Barrier, BarrierError> {
        let root_key = open_root_key(self.physical.as_ref(), unseal_key).await?;
        let sealed_keyring = self
            .physical
            .get(&storage_key(KEYRING_PATH)?)
            .await?
            .ok_or_else(|| BarrierError::Corrupt("keyring is missing".into()))?;
        let bytes = open_with_key(root_key.expose(), KEYRING_PATH.as_bytes(), &sealed_keyring)
            .map_err(|e| BarrierError::Corrupt(format!("keyring: {e}")))?;
        let keyring = Keyring::from_bytes(bytes.expose())
            .map_err(|e| BarrierError::Corrupt(format!("keyring: {e}")))?;
        Ok(Barrier::new(self.physical.clone(), root_key, keyring))
    }

    /// The physical storage under the barrier.
    pub fn physical(&self) -> Arc<dyn Storage> {
        self.physical.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_storage::MemoryStorage;
    use std::time::{Duration, UNIX_EPOCH};

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn sealed() -> SealedBarrier {
        SealedBarrier::new(Arc::new(MemoryStorage::new()))
    }

    #[tokio::test]
    async fn initialize_stores_wrapped_keys_once() {
        let s = sealed();
        let unseal = random_key().unwrap();
        assert!(!s.is_initialized().await.unwrap());
        s.initialize(&unseal, now()).await.unwrap();
        assert!(s.is_initialized().await.unwrap());
        let phys = s.physical();
        let root = phys
            .get(&storage_key(ROOT_KEY_PATH).unwrap())
            .await
            .unwrap()
            .unwrap();
        let ring = phys
            .get(&storage_key(KEYRING_PATH).unwrap())
            .await
            .unwrap()
            .unwrap();
        let root_key = open_with_key(unseal.expose(), b"core/root-key", &root).unwrap();
        assert_eq!(root_key.expose().len(), 32);
        let ring_key = to_key(root_key.expose(), "root key").unwrap();
        let ring = open_with_key(ring_key.expose(), b"core/keyring", &ring).unwrap();
        let keyring = Keyring::from_bytes(ring.expose()).unwrap();
        assert_eq!(keyring.active_status().term, 1);
        assert_eq!(keyring.active_status().install_time, now());

        let again = s.initialize(&unseal, now()).await.unwrap_err();
        assert!(
            matches!(again, BarrierError::AlreadyInitialized),
            "{again:?}"
        );
        let other = s
            .initialize(&random_key().unwrap(), now())
            .await
            .unwrap_err();
        assert!(matches!(other, BarrierError::AlreadyInitialized));
        // The original key still unseals: the failed call changed nothing.
        s.unseal(&unseal).await.unwrap();
    }

    #[tokio::test]
    async fn unseal_before_initialize_fails() {
        let err = sealed().unseal(&random_key().unwrap()).await.unwrap_err();
        assert!(matches!(err, BarrierError::NotInitialized));
        assert_eq!(err.kind().status(), 501);
    }

    #[tokio::test]
    async fn wrong_unseal_key_is_rejected() {
        let s = sealed();
        s.initialize(&random_key().unwrap(), now()).await.unwrap();
        let err = s.unseal(&random_key().unwrap()).await.unwrap_err();
        assert!(matches!(err, BarrierError::InvalidKey), "{err:?}");
        assert_eq!(err.kind().status(), 400);
        assert_eq!(err.to_string(), "Unseal failed, invalid key");
    }

    #[tokio::test]
    async fn corrupt_records_are_reported() {
        let s = sealed();
        let unseal = random_key().unwrap();
        s.initialize(&unseal, now()).await.unwrap();
        let phys = s.physical();
        let ring_path = storage_key(KEYRING_PATH).unwrap();
        let mut ring = phys.get(&ring_path).await.unwrap().unwrap();
        ring[20] ^= 1;
        phys.put(&ring_path, ring).await.unwrap();
        let err = s.unseal(&unseal).await.unwrap_err();
        assert!(matches!(err, BarrierError::Corrupt(_)), "{err:?}");
        phys.delete(&ring_path).await.unwrap();
        let err = s.unseal(&unseal).await.unwrap_err();
        assert!(matches!(err, BarrierError::Corrupt(_)), "{err:?}");
        assert_eq!(err.kind().status(), 500);
    }
}
