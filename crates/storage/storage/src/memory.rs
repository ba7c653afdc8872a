//! The in-memory backend (dev mode and tests).

use std::sync::RwLock;

use async_trait::async_trait;

use crate::tree::Tree;
use crate::{Key, Prefix, Storage, StorageError, WriteOp};

/// Keeps everything in memory, one sorted map per folder (see the `tree`
/// module). Nothing survives the process.
#[derive(Default)]
pub struct MemoryStorage {
    map: RwLock<Tree>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Tree> {
        // A poisoned lock only means another thread panicked mid-operation;
        // every operation below leaves the map consistent, so keep going.
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Tree> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.read().get(key.as_str()).cloned())
    }

    async fn put(&self, key: &Key, value: Vec<u8>) -> Result<(), StorageError> {
        self.write().put(key.as_str(), value);
        Ok(())
    }

    async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        self.write().delete(key.as_str());
        Ok(())
    }

    async fn list(&self, prefix: &Prefix) -> Result<Vec<String>, StorageError> {
        self.list_page(prefix, None, usize::MAX).await
    }

    async fn list_page(
        &self,
        prefix: &Prefix,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        Ok(self.read().children(prefix.as_str(), after, limit))
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let mut map = self.write();
        for op in ops {
            match op {
                WriteOp::Put(k, v) => map.put(k.as_str(), v),
                WriteOp::Delete(k) => map.delete(k.as_str()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_conformance() {
        crate::conformance::run_all(&MemoryStorage::new()).await;
    }
}
