//! Prefixed views: how a mount sees only its own slice of storage.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{Key, Prefix, Storage, StorageError, WriteOp};

/// A view of another store under a fixed prefix (`logical/<uuid>/`). Keys
/// given to the view are relative to the prefix; nothing outside it can be
/// reached, since keys cannot contain `..`.
#[derive(Clone)]
pub struct View {
    inner: Arc<dyn Storage>,
    prefix: Prefix,
}

impl View {
    /// A view of `inner` under `prefix`.
    pub fn new(inner: Arc<dyn Storage>, prefix: Prefix) -> Self {
        Self { inner, prefix }
    }

    /// The view's prefix in the underlying store.
    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    /// A view nested below this one.
    pub fn sub_view(&self, rest: &str) -> Result<View, StorageError> {
        Ok(View {
            inner: self.inner.clone(),
            prefix: self.prefix.join_prefix(rest)?,
        })
    }

    fn full(&self, key: &Key) -> Result<Key, StorageError> {
        self.prefix.join(key.as_str())
    }

    /// `op` with its key as the underlying store knows it (the view's
    /// prefix added), for a caller that holds that store and writes
    /// several views' changes in one atomic batch. Computing a key grants
    /// nothing: only the holder of the underlying store can write it.
    pub fn absolute(&self, op: WriteOp) -> Result<WriteOp, StorageError> {
        Ok(match op {
            WriteOp::Put(k, v) => WriteOp::Put(self.full(&k)?, v),
            WriteOp::Delete(k) => WriteOp::Delete(self.full(&k)?),
        })
    }
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View")
            .field("prefix", &self.prefix)
            .finish()
    }
}

#[async_trait]
impl Storage for View {
    async fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(&self.full(key)?).await
    }

    async fn put(&self, key: &Key, value: Vec<u8>) -> Result<(), StorageError> {
        self.inner.put(&self.full(key)?, value).await
    }

    async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        self.inner.delete(&self.full(key)?).await
    }

    async fn list(&self, prefix: &Prefix) -> Result<Vec<String>, StorageError> {
        self.inner
            .list(&self.prefix.join_prefix(prefix.as_str())?)
            .await
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let ops = ops
            .into_iter()
            .map(|op| self.absolute(op))
            .collect::<Result<Vec<_>, StorageError>>()?;
        self.inner.write_batch(ops).await
    }

    async fn list_page(
        &self,
        prefix: &Prefix,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        self.inner
            .list_page(&self.prefix.join_prefix(prefix.as_str())?, after, limit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStorage;

    #[tokio::test]
    async fn view_is_confined_to_its_prefix() {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        mem.put(&Key::new("outside").unwrap(), b"x".to_vec())
            .await
            .unwrap();
        let view = View::new(mem.clone(), Prefix::new("logical/abc/").unwrap());
        view.put(&Key::new("inner").unwrap(), b"y".to_vec())
            .await
            .unwrap();
        assert_eq!(
            mem.get(&Key::new("logical/abc/inner").unwrap())
                .await
                .unwrap(),
            Some(b"y".to_vec())
        );
        assert_eq!(view.list(&Prefix::root()).await.unwrap(), vec!["inner"]);
        assert!(Key::new("../outside").is_err());
    }

    #[tokio::test]
    async fn view_passes_conformance() {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let view = View::new(mem, Prefix::new("v/").unwrap());
        crate::conformance::run_all(&view).await;
    }
}
