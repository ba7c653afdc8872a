//! [`RedbStorage`]: the [`Storage`] implementation.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use coffer_storage::{Key, Prefix, Storage, StorageError, WriteOp};
use redb::ReadableDatabase;

use crate::TABLE;
use crate::error::{backend, read_task_failed};
use crate::open::open_database;
use crate::scan::{self, ReadTable};
use crate::writer::Writer;

/// The page cache of [`RedbStorage::open`]: 32 MiB.
pub const DEFAULT_PAGE_CACHE_BYTES: usize = 32 << 20;

/// Storage in one redb file. Writes are durable (fsynced) when they return
/// `Ok`, and concurrent writes share commits; reads run on tokio's blocking
/// pool and never wait for writes.
///
/// The file is locked while the store is open: a second process (or a second
/// `open` in this one) gets an error naming the lock. Dropping the store
/// waits for the writes already queued; [`RedbStorage::close`] does the same
/// without blocking the runtime and reports errors.
pub struct RedbStorage {
    // Declared first so it is dropped first: the writer thread finishes before
    // this handle's reference to the database goes away.
    writer: Writer,
    db: Arc<redb::Database>,
}

impl std::fmt::Debug for RedbStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStorage").finish_non_exhaustive()
    }
}

impl RedbStorage {
    /// Opens the database file at `path`, creating it (and its directory) if
    /// it does not exist. Blocking: from async code prefer
    /// [`RedbStorage::open_async`].
    ///
    /// Fails with a clear [`StorageError::Backend`] when the file is locked by
    /// another process, is not a redb database, or cannot be created.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        Self::open_with_cache(path, DEFAULT_PAGE_CACHE_BYTES)
    }

    /// [`RedbStorage::open`] with a page cache of `cache_bytes` (redb's own
    /// default is 1 GiB, far more than a secrets store's hot set).
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Self, StorageError> {
        let db = Arc::new(open_database(path, cache_bytes)?);
        let writer = Writer::start(db.clone())?;
        Ok(Self { writer, db })
    }

    /// [`RedbStorage::open_with_cache`] on tokio's blocking pool.
    pub async fn open_async(path: &Path, cache_bytes: usize) -> Result<Self, StorageError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || Self::open_with_cache(&path, cache_bytes))
            .await
            .map_err(|_| StorageError::Backend("redb: the open task did not complete".into()))?
    }

    /// Finishes the queued writes, stops the writer and closes the file,
    /// releasing its lock. Errors from closing are returned.
    pub async fn close(self) -> Result<(), StorageError> {
        let RedbStorage { mut writer, db } = self;
        tokio::task::spawn_blocking(move || {
            writer.shutdown()?;
            match Arc::try_unwrap(db) {
                Ok(db) => db.close().map_err(|e| backend("close", e)),
                // A read whose caller stopped waiting still holds the
                // database; it closes when that read ends.
                Err(_) => Ok(()),
            }
        })
        .await
        .map_err(|_| StorageError::Backend("redb: the close task did not complete".into()))?
    }

    /// How many write transactions this store has committed since it was
    /// opened (each one fsync). Fewer than the writes made when concurrent
    /// writes were grouped.
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }

    /// Runs `f` on the table in a fresh read transaction, on the blocking pool.
    async fn read<T, F>(&self, what: &'static str, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTable) -> Result<T, redb::StorageError> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let txn = db
                .begin_read()
                .map_err(|e| backend("begin read transaction", e))?;
            let table = txn
                .open_table(TABLE)
                .map_err(|e| backend("open table", e))?;
            f(&table).map_err(|e| backend(what, e))
        })
        .await
        .map_err(|_| read_task_failed())?
    }
}

#[async_trait]
impl Storage for RedbStorage {
    async fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StorageError> {
        let key = key.as_str().to_owned();
        self.read("get", move |t| scan::get(t, &key)).await
    }

    async fn put(&self, key: &Key, value: Vec<u8>) -> Result<(), StorageError> {
        self.writer
            .write(vec![WriteOp::Put(key.clone(), value)])
            .await
    }

    async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        self.writer.write(vec![WriteOp::Delete(key.clone())]).await
    }

    async fn list(&self, prefix: &Prefix) -> Result<Vec<String>, StorageError> {
        let prefix = prefix.as_str().to_owned();
        self.read("list", move |t| {
            scan::children(t, &prefix, None, usize::MAX)
        })
        .await
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.writer.write(ops).await
    }

    async fn list_page(
        &self,
        prefix: &Prefix,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        let prefix = prefix.as_str().to_owned();
        let after = after.map(str::to_owned);
        self.read("list", move |t| {
            scan::children(t, &prefix, after.as_deref(), limit)
        })
        .await
    }
}
