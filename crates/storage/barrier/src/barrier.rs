//! The unsealed barrier: an encrypting [`Storage`] over physical storage.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::SystemTime;

use async_trait::async_trait;
use coffer_crypto::{CryptoError, KeyStatus, Keyring, Secret, ct_eq, seal_with_key};
use coffer_storage::{Key, Prefix, Storage, StorageError, WriteOp};

use crate::sealed::{open_root_key, seal_keyring, storage_key};
use crate::{BarrierError, KEYRING_PATH, ROOT_KEY_PATH, is_reserved};

/// The unsealed barrier. Every value is encrypted with the keyring's active
/// term, with the full storage key as associated data, so a value copied to
/// another key fails to decrypt. Listing passes through (keys are not
/// secret). Keys `core/root-key`, `core/keyring` and everything under
/// `core/barrier/` are refused.
///
/// Cloning is cheap (a shared handle). Sealing is dropping every clone: the
/// shared state then drops its root key (a `Secret<[u8; 32]>`) and its
/// [`Keyring`], whose every term key is a `Secret`; `Secret`'s `Drop`
/// zeroizes the bytes. AES key schedules are built per operation inside
/// aws-lc-rs and cleansed when freed.
#[derive(Clone)]
pub struct Barrier {
    inner: Arc<Inner>,
}

struct Inner {
    physical: Arc<dyn Storage>,
    root_key: Secret<[u8; 32]>,
    /// Read-locked for every encrypt/decrypt, write-locked only to swap in a
    /// rotated keyring. Never held across an `.await`.
    keyring: RwLock<Keyring>,
    /// Serialises `rotate` and `rekey`, which read-modify-write the stored
    /// keyring / root key across awaits.
    admin: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Barrier")
            .field("active_term", &self.key_status().term)
            .finish_non_exhaustive()
    }
}

fn integrity(key: &Key, err: CryptoError) -> StorageError {
    StorageError::Integrity {
        key: key.to_string(),
        reason: err.to_string(),
    }
}

fn check_key(key: &Key) -> Result<(), StorageError> {
    if is_reserved(key.as_str()) {
        return Err(BarrierError::ReservedKey(key.to_string()).into());
    }
    Ok(())
}

impl Barrier {
    pub(crate) fn new(
        physical: Arc<dyn Storage>,
        root_key: Secret<[u8; 32]>,
        keyring: Keyring,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                physical,
                root_key,
                keyring: RwLock::new(keyring),
                admin: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn keyring(&self) -> RwLockReadGuard<'_, Keyring> {
        // Keyring operations never panic while the lock is held, and a
        // poisoned guard still holds a consistent keyring, so recover it.
        self.inner
            .keyring
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn encrypt(&self, key: &Key, plaintext: Vec<u8>) -> Result<Vec<u8>, StorageError> {
        let plaintext = Secret::new(plaintext);
        self.keyring()
            .encrypt(key.as_str().as_bytes(), plaintext.expose())
            .map_err(|e| StorageError::Backend(format!("failed to encrypt {key}: {e}")))
    }

    /// Starts a new key term (Vault's `sys/rotate`) and re-saves the keyring
    /// under the root key. Data written under older terms stays readable; new
    /// writes use the new term once the keyring is stored.
    pub async fn rotate(&self, now: SystemTime) -> Result<KeyStatus, BarrierError> {
        let _admin = self.inner.admin.lock().await;
        let mut next = self.keyring().try_clone()?;
        let status = next.rotate(now)?;
        let sealed = seal_keyring(&self.inner.root_key, &next)?;
        self.inner
            .physical
            .put(&storage_key(KEYRING_PATH)?, sealed)
            .await?;
        *self
            .inner
            .keyring
            .write()
            .unwrap_or_else(PoisonError::into_inner) = next;
        Ok(status)
    }

    /// The active key term's status (Vault's `sys/key-status`).
    pub fn key_status(&self) -> KeyStatus {
        self.keyring().active_status()
    }

    /// Re-wraps the root key under a new unseal key (rekey), in one atomic
    /// write. The keyring and all data are untouched.
    pub async fn rekey(&self, new_unseal_key: &Secret<[u8; 32]>) -> Result<(), BarrierError> {
        let _admin = self.inner.admin.lock().await;
        let sealed = seal_with_key(
            new_unseal_key.expose(),
            ROOT_KEY_PATH.as_bytes(),
            self.inner.root_key.expose(),
        )?;
        self.inner
            .physical
            .write_batch(vec![WriteOp::Put(storage_key(ROOT_KEY_PATH)?, sealed)])
            .await?;
        Ok(())
    }

    /// True when `key` opens the stored root key and it is the root key in
    /// use (for generate-root / rekey authorisation). Changes nothing.
    pub async fn verify_unseal_key(&self, key: &Secret<[u8; 32]>) -> Result<bool, BarrierError> {
        match open_root_key(self.inner.physical.as_ref(), key).await {
            Ok(root) => Ok(ct_eq(root.expose(), self.inner.root_key.expose())),
            Err(BarrierError::InvalidKey) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Storage for Barrier {
    async fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        let Some(ciphertext) = self.inner.physical.get(key).await? else {
            return Ok(None);
        };
        let mut plain = self
            .keyring()
            .decrypt(key.as_str().as_bytes(), &ciphertext)
            .map_err(|e| integrity(key, e))?;
        Ok(Some(std::mem::take(plain.expose_mut())))
    }

    async fn put(&self, key: &Key, value: Vec<u8>) -> Result<(), StorageError> {
        check_key(key)?;
        let ciphertext = self.encrypt(key, value)?;
        self.inner.physical.put(key, ciphertext).await
    }

    async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        check_key(key)?;
        self.inner.physical.delete(key).await
    }

    async fn list(&self, prefix: &Prefix) -> Result<Vec<String>, StorageError> {
        self.inner.physical.list(prefix).await
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let mut sealed = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                WriteOp::Put(key, value) => {
                    check_key(&key)?;
                    let ciphertext = self.encrypt(&key, value)?;
                    sealed.push(WriteOp::Put(key, ciphertext));
                }
                WriteOp::Delete(key) => {
                    check_key(&key)?;
                    sealed.push(WriteOp::Delete(key));
                }
            }
        }
        self.inner.physical.write_batch(sealed).await
    }

    async fn list_page(
        &self,
        prefix: &Prefix,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        self.inner.physical.list_page(prefix, after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SealedBarrier;
    use coffer_crypto::random_key;
    use coffer_storage::{MemoryStorage, list_recursive};
    use std::time::{Duration, UNIX_EPOCH};

    const CANARY: &[u8] = b"canary-plaintext-5e1f";

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn key(s: &str) -> Key {
        Key::new(s).unwrap()
    }

    async fn setup() -> (SealedBarrier, Secret<[u8; 32]>, Barrier) {
        let sealed = SealedBarrier::new(Arc::new(MemoryStorage::new()));
        let unseal = random_key().unwrap();
        sealed.initialize(&unseal, t(1000)).await.unwrap();
        let barrier = sealed.unseal(&unseal).await.unwrap();
        (sealed, unseal, barrier)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[tokio::test]
    async fn passes_storage_conformance() {
        let (_, _, barrier) = setup().await;
        coffer_storage::conformance::run_all(&barrier).await;
    }

    #[tokio::test]
    async fn tampered_ciphertext_fails_to_decrypt() {
        let (sealed, _, barrier) = setup().await;
        let k = key("secret/data/a");
        barrier.put(&k, CANARY.to_vec()).await.unwrap();
        let phys = sealed.physical();
        let stored = phys.get(&k).await.unwrap().unwrap();
        for i in 0..stored.len() {
            let mut bad = stored.clone();
            bad[i] ^= 0x04;
            phys.put(&k, bad).await.unwrap();
            match barrier.get(&k).await {
                Err(e @ StorageError::Integrity { .. }) => {
                    let msg = format!("{e} {e:?}");
                    assert!(msg.contains("secret/data/a"), "{msg}");
                    assert!(!contains(msg.as_bytes(), CANARY), "plaintext leaked: {msg}");
                    assert_eq!(e.kind().status(), 500);
                }
                other => panic!("flip at byte {i}: expected integrity error, got {other:?}"),
            }
        }
        phys.put(&k, stored).await.unwrap();
        assert_eq!(barrier.get(&k).await.unwrap().unwrap(), CANARY);
    }

    #[tokio::test]
    async fn ciphertext_moved_to_another_key_fails() {
        let (sealed, _, barrier) = setup().await;
        let (a, b) = (key("app/a"), key("app/b"));
        barrier.put(&a, b"value-a".to_vec()).await.unwrap();
        let phys = sealed.physical();
        let ct = phys.get(&a).await.unwrap().unwrap();
        phys.put(&b, ct).await.unwrap();
        let err = barrier.get(&b).await.unwrap_err();
        assert!(
            matches!(&err, StorageError::Integrity { key, .. } if key == "app/b"),
            "{err:?}"
        );
        assert_eq!(barrier.get(&a).await.unwrap().unwrap(), b"value-a");
    }

    #[tokio::test]
    async fn canary_never_reaches_physical_storage() {
        let (sealed, _, barrier) = setup().await;
        barrier.put(&key("kv/one"), CANARY.to_vec()).await.unwrap();
        let mut embedded = b"prefix ".to_vec();
        embedded.extend_from_slice(CANARY);
        barrier
            .write_batch(vec![
                WriteOp::Put(key("kv/two"), embedded),
                WriteOp::Put(key("kv/nested/three"), CANARY.to_vec()),
            ])
            .await
            .unwrap();
        barrier.rotate(t(2000)).await.unwrap();
        barrier.put(&key("kv/four"), CANARY.to_vec()).await.unwrap();
        let phys = sealed.physical();
        let keys = list_recursive(phys.as_ref(), &Prefix::root())
            .await
            .unwrap();
        assert!(keys.len() >= 6, "{keys:?}");
        for k in &keys {
            assert!(!contains(k.as_bytes(), CANARY), "canary in key {k}");
            let value = phys.get(&key(k)).await.unwrap().unwrap();
            assert!(!contains(&value, CANARY), "canary in value at {k}");
        }
        assert_eq!(
            barrier.get(&key("kv/nested/three")).await.unwrap().unwrap(),
            CANARY
        );
    }

    #[tokio::test]
    async fn rotate_keeps_old_data_and_writes_new_term() {
        let (sealed, unseal, barrier) = setup().await;
        let phys = sealed.physical();
        let old = key("data/old");
        barrier.put(&old, b"term one".to_vec()).await.unwrap();
        assert_eq!(
            Keyring::term_of(&phys.get(&old).await.unwrap().unwrap()).unwrap(),
            1
        );
        assert_eq!(barrier.key_status().term, 1);
        assert_eq!(barrier.key_status().install_time, t(1000));

        let status = barrier.rotate(t(5000)).await.unwrap();
        assert_eq!(status.term, 2);
        assert_eq!(status.install_time, t(5000));
        assert_eq!(barrier.key_status().term, 2);
        assert_eq!(barrier.get(&old).await.unwrap().unwrap(), b"term one");

        let new = key("data/new");
        barrier.put(&new, b"term two".to_vec()).await.unwrap();
        assert_eq!(
            Keyring::term_of(&phys.get(&new).await.unwrap().unwrap()).unwrap(),
            2
        );

        // The rotated keyring was persisted: a fresh unseal reads both terms.
        drop(barrier);
        let again = sealed.unseal(&unseal).await.unwrap();
        assert_eq!(again.key_status().term, 2);
        assert_eq!(again.get(&old).await.unwrap().unwrap(), b"term one");
        assert_eq!(again.get(&new).await.unwrap().unwrap(), b"term two");
    }

    #[tokio::test]
    async fn rekey_changes_the_unseal_key() {
        let (sealed, old_key, barrier) = setup().await;
        barrier.put(&key("a"), b"kept".to_vec()).await.unwrap();
        let new_key = random_key().unwrap();
        assert!(barrier.verify_unseal_key(&old_key).await.unwrap());
        assert!(!barrier.verify_unseal_key(&new_key).await.unwrap());

        barrier.rekey(&new_key).await.unwrap();
        assert!(barrier.verify_unseal_key(&new_key).await.unwrap());
        assert!(!barrier.verify_unseal_key(&old_key).await.unwrap());
        // The running barrier keeps working.
        assert_eq!(barrier.get(&key("a")).await.unwrap().unwrap(), b"kept");

        let err = sealed.unseal(&old_key).await.unwrap_err();
        assert!(matches!(err, BarrierError::InvalidKey), "{err:?}");
        let reopened = sealed.unseal(&new_key).await.unwrap();
        assert_eq!(reopened.get(&key("a")).await.unwrap().unwrap(), b"kept");
    }

    #[tokio::test]
    async fn verify_rejects_a_key_for_another_root() {
        let (_, _, barrier) = setup().await;
        let (_, other_key, _) = setup().await;
        assert!(!barrier.verify_unseal_key(&other_key).await.unwrap());
    }

    #[tokio::test]
    async fn reserved_keys_are_refused() {
        let (sealed, unseal, barrier) = setup().await;
        for k in ["core/root-key", "core/keyring", "core/barrier/x"] {
            let k = key(k);
            let err = barrier.put(&k, b"x".to_vec()).await.unwrap_err();
            assert!(matches!(err, StorageError::InvalidKey(_)), "{err:?}");
            assert!(matches!(
                barrier.get(&k).await,
                Err(StorageError::InvalidKey(_))
            ));
            assert!(matches!(
                barrier.delete(&k).await,
                Err(StorageError::InvalidKey(_))
            ));
        }
        let batch = vec![
            WriteOp::Put(key("ok/one"), b"1".to_vec()),
            WriteOp::Delete(key("core/keyring")),
        ];
        assert!(matches!(
            barrier.write_batch(batch).await,
            Err(StorageError::InvalidKey(_))
        ));
        assert_eq!(barrier.get(&key("ok/one")).await.unwrap(), None);
        // Ordinary core/ keys are fine, and the barrier still unseals.
        barrier
            .put(&key("core/mounts"), b"m".to_vec())
            .await
            .unwrap();
        sealed.unseal(&unseal).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_and_rotations() {
        let (sealed, unseal, barrier) = setup().await;
        let mut tasks = Vec::new();
        for w in 0..4 {
            let b = barrier.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    let k = key(&format!("c/{w}/{i}"));
                    b.put(&k, format!("{w}-{i}").into_bytes()).await.unwrap();
                }
            }));
        }
        for r in 0..3 {
            let b = barrier.clone();
            tasks.push(tokio::spawn(async move {
                b.rotate(t(3000 + r)).await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(barrier.key_status().term, 4);
        let reopened = sealed.unseal(&unseal).await.unwrap();
        assert_eq!(reopened.key_status().term, 4);
        for w in 0..4 {
            for i in 0..25 {
                let got = reopened
                    .get(&key(&format!("c/{w}/{i}")))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(got, format!("{w}-{i}").into_bytes());
            }
        }
    }

    #[tokio::test]
    async fn debug_shows_no_key_material() {
        let (_, _, barrier) = setup().await;
        let printed = format!("{barrier:?}");
        assert_eq!(printed, "Barrier { active_term: 1, .. }");
        let root_hex = coffer_crypto_hex(barrier.inner.root_key.expose());
        assert!(!printed.contains(&root_hex));
    }

    fn coffer_crypto_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[tokio::test]
    async fn list_passes_through() {
        let (_, _, barrier) = setup().await;
        barrier.put(&key("l/a"), b"1".to_vec()).await.unwrap();
        barrier.put(&key("l/b/c"), b"2".to_vec()).await.unwrap();
        assert_eq!(
            barrier.list(&Prefix::new("l/").unwrap()).await.unwrap(),
            ["a", "b/"]
        );
        let page = barrier
            .list_page(&Prefix::new("l/").unwrap(), Some("a"), 10)
            .await;
        assert_eq!(page.unwrap(), ["b/"]);
    }
}
