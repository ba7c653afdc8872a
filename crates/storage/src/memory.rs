//! The in-memory backend (dev mode and tests).

use std::collections::BTreeMap;
use std::sync::RwLock;

use async_trait::async_trait;

use crate::{Key, Prefix, Storage, StorageError, WriteOp};

/// Keeps everything in a sorted map in memory. Nothing survives the process.
#[derive(Default)]
pub struct MemoryStorage {
    map: RwLock<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A poisoned lock only means another thread panicked mid-operation;
        // every operation below leaves the map consistent, so keep going.
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.read().get(key.as_str()).cloned())
    }

    async fn put(&self, key: &Key, value: Vec<u8>) -> Result<(), StorageError> {
        self.write().insert(key.as_str().to_owned(), value);
        Ok(())
    }

    async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        self.write().remove(key.as_str());
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
        let map = self.read();
        crate::list_children(prefix.as_str(), after, limit, |lower, upper, visit| {
            for (key, _) in map.range::<str, _>((lower, upper)) {
                if !visit(key) {
                    break;
                }
            }
            Ok(())
        })
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let mut map = self.write();
        for op in ops {
            match op {
                WriteOp::Put(k, v) => {
                    map.insert(k.as_str().to_owned(), v);
                }
                WriteOp::Delete(k) => {
                    map.remove(k.as_str());
                }
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
