//! [`CachedStorage`]: a read cache in front of a physical backend, as
//! Vault's physical cache. It sits below the barrier, so it holds only what
//! the backend holds: ciphertext.

use std::sync::Arc;

use async_trait::async_trait;

use crate::cache::DecodedCache;
use crate::{Key, Prefix, Storage, StorageError, WriteOp};

/// A cached value: present (shared bytes) or known absent.
type Slot = Option<Arc<[u8]>>;

/// What an absent key weighs in the cache: its bookkeeping, roughly.
const ABSENT_WEIGHT: usize = 64;

fn weigh(slot: &Slot) -> usize {
    slot.as_ref()
        .map_or(ABSENT_WEIGHT, |v| v.len() + ABSENT_WEIGHT)
}

/// Caches reads of `inner`, present and absent keys alike, up to a byte
/// budget. Writes go to `inner` first and then drop the keys they touched,
/// so a read never returns something older than a write acknowledged before
/// it began. Only correct when every write goes through this layer (one
/// active node); lists are not cached.
pub struct CachedStorage<S> {
    inner: S,
    cache: DecodedCache<String, Slot>,
}

impl<S> std::fmt::Debug for CachedStorage<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStorage").finish_non_exhaustive()
    }
}

impl<S: Storage> CachedStorage<S> {
    /// Caches reads of `inner` in at most about `bytes` of memory and at
    /// most `entries` entries (Vault's `cache_size`).
    pub fn new(inner: S, bytes: usize, entries: usize) -> Self {
        Self {
            inner,
            cache: DecodedCache::weighted(bytes / 2, weigh).with_max_entries(entries / 2),
        }
    }

    /// The backend behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

#[async_trait]
impl<S: Storage> Storage for CachedStorage<S> {
    async fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(slot) = self.cache.get(key.as_str()) {
            return Ok(slot.map(|v| v.to_vec()));
        }
        let ticket = self.cache.ticket();
        let value = self.inner.get(key).await?;
        let slot: Slot = value.as_deref().map(Arc::from);
        self.cache.insert(ticket, key.as_str().to_owned(), slot);
        Ok(value)
    }

    async fn put(&self, key: &Key, value: Vec<u8>) -> Result<(), StorageError> {
        let written = self.inner.put(key, value).await;
        // Dropped even when the write failed: it may have been applied.
        self.cache.invalidate(key.as_str());
        written
    }

    async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        let written = self.inner.delete(key).await;
        self.cache.invalidate(key.as_str());
        written
    }

    async fn list(&self, prefix: &Prefix) -> Result<Vec<String>, StorageError> {
        self.inner.list(prefix).await
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let keys: Vec<String> = ops.iter().map(|op| op.key().as_str().to_owned()).collect();
        let written = self.inner.write_batch(ops).await;
        for key in &keys {
            self.cache.invalidate(key.as_str());
        }
        written
    }

    async fn list_page(
        &self,
        prefix: &Prefix,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        self.inner.list_page(prefix, after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStorage;

    #[tokio::test]
    async fn passes_conformance() {
        crate::conformance::run_all(&CachedStorage::new(MemoryStorage::new(), 1 << 20, 1000)).await;
    }

    #[tokio::test]
    async fn reads_are_served_from_memory_and_writes_are_seen() {
        let store = CachedStorage::new(MemoryStorage::new(), 1 << 20, 1000);
        let k = Key::new("a/b").unwrap();
        assert_eq!(store.get(&k).await.unwrap(), None);
        // Absent, cached as absent; a write through the layer is seen.
        store.put(&k, b"one".to_vec()).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap().as_deref(), Some(&b"one"[..]));
        // Change the backend behind the cache's back: the cached value is
        // what a read returns, which proves reads come from memory.
        store.inner().put(&k, b"two".to_vec()).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap().as_deref(), Some(&b"one"[..]));
        store
            .write_batch(vec![WriteOp::Put(k.clone(), b"three".to_vec())])
            .await
            .unwrap();
        assert_eq!(store.get(&k).await.unwrap().as_deref(), Some(&b"three"[..]));
        store.delete(&k).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap(), None);
    }
}
