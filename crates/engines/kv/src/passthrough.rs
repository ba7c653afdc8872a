//! The storage logic KV v1 and cubbyhole share: one JSON object per key,
//! listed like a directory tree.

use coffer_storage::{Key, Prefix, Storage, View};
use coffer_types::Result;
use serde_json::{Map, Value};

use crate::KvError;

/// The storage key of the entry at `path` below `base` (`""` or ending in `/`).
/// `None` when `path` cannot name an entry (empty or a folder), which reads
/// answer with 404 and deletes ignore, as Vault does; other malformed paths
/// (`..`, empty segments, NUL) are 400.
pub(crate) fn entry_key(base: &str, path: &str) -> Result<Option<Key>, KvError> {
    if path.is_empty() || path.ends_with('/') {
        return Ok(None);
    }
    Ok(Some(Key::new(format!("{base}{path}"))?))
}

/// The key a write goes to; an empty path is Vault's `missing path`.
pub(crate) fn write_key(base: &str, path: &str) -> Result<Key, KvError> {
    if path.is_empty() {
        return Err(KvError::MissingPath);
    }
    Ok(Key::new(format!("{base}{path}"))?)
}

/// The prefix a LIST of `path` below `base` covers.
pub(crate) fn list_prefix(base: &str, path: &str) -> Result<Prefix, KvError> {
    Ok(Prefix::new(format!("{base}{path}"))?)
}

/// Reads and decodes the entry at `key`.
pub(crate) async fn read(storage: &View, key: &Key) -> Result<Option<Map<String, Value>>, KvError> {
    match storage.get(key).await? {
        None => Ok(None),
        Some(raw) => serde_json::from_slice(&raw)
            .map(Some)
            .map_err(|_| KvError::Corrupt("secret")),
    }
}

/// Stores the whole request body at `key`; an empty body is refused.
pub(crate) async fn write(
    storage: &View,
    key: &Key,
    data: &Map<String, Value>,
) -> Result<(), KvError> {
    if data.is_empty() {
        return Err(KvError::MissingDataFields);
    }
    let raw = serde_json::to_vec(data).map_err(|_| KvError::Encode("secret"))?;
    storage.put(key, raw).await?;
    Ok(())
}

/// Whether an entry exists at `key`.
pub(crate) async fn exists(storage: &View, key: Option<&Key>) -> Result<bool, KvError> {
    match key {
        None => Ok(false),
        Some(k) => Ok(storage.get(k).await?.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn keys_are_validated() {
        assert!(entry_key("", "").unwrap().is_none());
        assert!(entry_key("", "dir/").unwrap().is_none());
        assert_eq!(entry_key("s/", "a/b").unwrap().unwrap().as_str(), "s/a/b");
        for bad in ["a/../b", "a//b", "..", "a\0b", "./a"] {
            let err = Error::from(entry_key("", bad).unwrap_err());
            assert_eq!(err.status(), 400, "{bad:?}");
        }
        assert!(matches!(write_key("", ""), Err(KvError::MissingPath)));
        assert_eq!(list_prefix("s/", "").unwrap().as_str(), "s/");
        assert_eq!(list_prefix("s/", "a").unwrap().as_str(), "s/a/");
        assert!(list_prefix("", "../x").is_err());
    }
}
