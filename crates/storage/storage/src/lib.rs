//! Coffer's storage abstraction. [`Storage`] is the one trait every physical
//! backend (in-memory, redb, PostgreSQL) and every logical layer above them (the
//! encrypting barrier, per-mount [`View`]s) implements. Keys are parsed
//! [`Key`]s, never raw strings. The [`conformance`] suite is run against every
//! backend. This crate knows no backend but the in-memory one.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cache;
mod cached;
pub mod conformance;
mod error;
mod key;
mod listing;
mod memory;
mod tree;
mod view;

use async_trait::async_trait;

pub use cached::CachedStorage;
pub use error::StorageError;
pub use key::{Key, Prefix, escape_segment, unescape_segment};
pub use listing::list_children;
pub use memory::MemoryStorage;
pub use view::View;

/// One write in an atomic batch.
#[derive(Clone)]
pub enum WriteOp {
    /// Store `value` at the key.
    Put(Key, Vec<u8>),
    /// Remove the key (no error if absent).
    Delete(Key),
}

impl WriteOp {
    /// The key this write changes.
    pub fn key(&self) -> &Key {
        match self {
            WriteOp::Put(key, _) | WriteOp::Delete(key) => key,
        }
    }
}

impl std::fmt::Debug for WriteOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteOp::Put(k, v) => write!(f, "Put({k}, {} bytes)", v.len()),
            WriteOp::Delete(k) => write!(f, "Delete({k})"),
        }
    }
}

/// A key-value store with hierarchical, `/`-separated keys.
///
/// Every method is durable when it returns `Ok`: a backend that acknowledges a
/// write has made it survive a crash of the process.
#[async_trait]
pub trait Storage: Send + Sync {
    /// Reads the value at `key`, or `None`.
    async fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StorageError>;

    /// Stores `value` at `key`, replacing any previous value.
    async fn put(&self, key: &Key, value: Vec<u8>) -> Result<(), StorageError>;

    /// Removes `key`. Removing an absent key is not an error.
    async fn delete(&self, key: &Key) -> Result<(), StorageError>;

    /// The immediate children of `prefix`, sorted: leaf names as they are and
    /// "folders" (names with further segments below them) once each, with a
    /// trailing `/`, as Vault lists.
    async fn list(&self, prefix: &Prefix) -> Result<Vec<String>, StorageError>;

    /// Applies every write in `ops` atomically: all or none.
    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), StorageError>;

    /// A page of [`Storage::list`]: the children that sort after `after`
    /// (exclusive), at most `limit` of them. Backends may override this with a
    /// cheaper range scan.
    async fn list_page(
        &self,
        prefix: &Prefix,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        let all = self.list(prefix).await?;
        Ok(all
            .into_iter()
            .filter(|k| after.is_none_or(|a| k.as_str() > a))
            .take(limit)
            .collect())
    }
}

/// Every key below `prefix`, recursively (full keys relative to `prefix`,
/// leaves only). Walks [`Storage::list`] breadth-first.
pub async fn list_recursive(
    storage: &dyn Storage,
    prefix: &Prefix,
) -> Result<Vec<String>, StorageError> {
    let mut out = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(rel) = pending.pop() {
        let here = prefix.join_prefix(&rel)?;
        for child in storage.list(&here).await? {
            let full = format!("{rel}{child}");
            if child.ends_with('/') {
                pending.push(full);
            } else {
                out.push(full);
            }
        }
    }
    out.sort();
    Ok(out)
}
