//! KV v2's stored records and their layout in the mount's view:
//!
//! - `config`: the mount-wide [`Config`];
//! - `metadata/<path>`: one [`KeyMeta`] per secret (settings, custom
//!   metadata and the metadata of every retained version);
//! - `versions/<path>/<n>`: the data of version `n`, one record per version.
//!
//! A write puts the new version and the updated metadata (and deletes trimmed
//! versions) in one atomic batch.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use coffer_sdk::cache::DecodedCache;
use coffer_storage::{Key, Prefix, Storage, View, WriteOp};
use coffer_types::timestamp::{Timestamp, rfc3339_or_empty};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::KvError;
use crate::kv2::Env;

/// Versions kept per key when neither the mount nor the key sets `max_versions`.
pub(crate) const DEFAULT_MAX_VERSIONS: u32 = 10;

const CONFIG_KEY: &str = "config";

/// The mount-wide settings (`<mount>/config`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Config {
    /// Versions to keep per key (0: the default, 10).
    #[serde(default)]
    pub max_versions: u32,
    /// Whether every write must carry `options.cas`.
    #[serde(default)]
    pub cas_required: bool,
    /// Seconds after which a new version is deleted: 0 unset, negative disabled
    /// for every key (stored as -1, shown as `-1s`, as Vault does).
    #[serde(default)]
    pub delete_version_after: i64,
}

impl Config {
    /// True when `delete_version_after` has been disabled mount-wide.
    pub(crate) fn dva_disabled(&self) -> bool {
        self.delete_version_after < 0
    }

    /// The mount's `delete_version_after` in seconds (0 when unset or disabled).
    pub(crate) fn dva_secs(&self) -> u64 {
        u64::try_from(self.delete_version_after).unwrap_or(0)
    }
}

/// The metadata of one version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VersionMeta {
    /// When it was written.
    pub created_time: Timestamp,
    /// When it is (or was) deleted.
    #[serde(default)]
    pub deletion_time: Option<Timestamp>,
    /// Whether its data has been destroyed.
    #[serde(default)]
    pub destroyed: bool,
}

impl VersionMeta {
    /// Whether the version counts as deleted at `now`.
    pub(crate) fn is_deleted(&self, now: Timestamp) -> bool {
        self.deletion_time.is_some_and(|t| t <= now)
    }

    /// Deleted or destroyed: reads answer 404 with the metadata.
    pub(crate) fn is_gone(&self, now: Timestamp) -> bool {
        self.destroyed || self.is_deleted(now)
    }
}

/// The metadata of one secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct KeyMeta {
    /// The newest version (0 before the first write).
    pub current_version: u64,
    /// The oldest version kept, as Vault counts it.
    pub oldest_version: u64,
    /// When the key was created.
    pub created_time: Option<Timestamp>,
    /// When the last version was written.
    pub updated_time: Option<Timestamp>,
    /// Per-key `max_versions` (0: the mount's).
    pub max_versions: u32,
    /// Per-key `cas_required`.
    pub cas_required: bool,
    /// Per-key `delete_version_after`, seconds (0: unset).
    pub delete_version_after: u64,
    /// User metadata.
    pub custom_metadata: BTreeMap<String, String>,
    /// The retained versions.
    pub versions: BTreeMap<u64, VersionMeta>,
}

impl KeyMeta {
    /// A key created by a metadata write at `now`.
    pub(crate) fn created_at(now: Timestamp) -> Self {
        Self {
            created_time: Some(now),
            updated_time: Some(now),
            ..Self::default()
        }
    }

    /// Records a new version and moves the `max_versions` window, as Vault's
    /// `AddVersion` does. Returns the new version number and the versions
    /// that fell out of the window (whose data must be deleted).
    pub(crate) fn add_version(
        &mut self,
        created: Timestamp,
        deletion: Option<Timestamp>,
        config_max_versions: u32,
    ) -> (u64, Vec<u64>) {
        self.current_version = self.current_version.saturating_add(1);
        self.versions.insert(
            self.current_version,
            VersionMeta {
                created_time: created,
                deletion_time: deletion,
                destroyed: false,
            },
        );
        self.updated_time = Some(created);
        if self.created_time.is_none() {
            self.created_time = Some(created);
        }
        let max = match self.max_versions.max(config_max_versions) {
            0 => DEFAULT_MAX_VERSIONS,
            n => n,
        };
        let mut removed = Vec::new();
        if self.current_version - self.oldest_version >= u64::from(max) {
            let to_delete = self.current_version - u64::from(max);
            let doomed: Vec<u64> = self.versions.range(..=to_delete).map(|(n, _)| *n).collect();
            for n in doomed {
                self.versions.remove(&n);
                removed.push(n);
            }
            self.oldest_version = to_delete + 1;
        }
        (self.current_version, removed)
    }

    /// `custom_metadata` as Vault shows it: `null` when empty.
    pub(crate) fn custom_metadata_json(&self) -> Value {
        if self.custom_metadata.is_empty() {
            return Value::Null;
        }
        Value::Object(
            self.custom_metadata
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    /// The per-version metadata block of data reads, writes and patches.
    pub(crate) fn version_json(&self, number: u64, vm: &VersionMeta) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            "created_time".into(),
            Value::String(vm.created_time.rfc3339()),
        );
        m.insert("custom_metadata".into(), self.custom_metadata_json());
        m.insert(
            "deletion_time".into(),
            Value::String(rfc3339_or_empty(vm.deletion_time)),
        );
        m.insert("destroyed".into(), Value::Bool(vm.destroyed));
        m.insert("version".into(), Value::from(number));
        m
    }
}

/// When a version created at `creation` is deleted: after the smaller
/// non-zero of the mount's and the key's `delete_version_after`, if any.
pub(crate) fn deletion_time(
    creation: Timestamp,
    mount_secs: u64,
    meta_secs: u64,
) -> Option<Timestamp> {
    let after = match (mount_secs, meta_secs) {
        (0, 0) => return None,
        (0, m) | (m, 0) => m,
        (a, b) => a.min(b),
    };
    Some(creation.plus(std::time::Duration::from_secs(after)))
}

/// The deletion time a version written (or undeleted) at `now` gets.
pub(crate) fn scheduled_deletion(
    config: &Config,
    meta: &KeyMeta,
    now: Timestamp,
) -> Option<Timestamp> {
    if config.dva_disabled() {
        return None;
    }
    deletion_time(now, config.dva_secs(), meta.delete_version_after)
}

/// The storage key of a secret's metadata; validates the path.
pub(crate) fn meta_key(path: &str) -> Result<Key, KvError> {
    Ok(Key::new(format!("metadata/{path}"))?)
}

/// The prefix listed by `LIST metadata/<path>`.
pub(crate) fn meta_prefix(path: &str) -> Result<Prefix, KvError> {
    Ok(Prefix::new(format!("metadata/{path}"))?)
}

/// The storage key of one version's data.
pub(crate) fn version_key(path: &str, version: u64) -> Result<Key, KvError> {
    Ok(Key::new(format!("versions/{path}/{version}"))?)
}

fn encode<T: Serialize>(value: &T, what: &'static str) -> Result<Vec<u8>, KvError> {
    serde_json::to_vec(value).map_err(|_| KvError::Encode(what))
}

fn decode<T: DeserializeOwned>(raw: &[u8], what: &'static str) -> Result<T, KvError> {
    serde_json::from_slice(raw).map_err(|_| KvError::Corrupt(what))
}

/// How many key metadata records a mount keeps decoded (twice this at most).
const META_CACHE_CAPACITY: usize = 4096;

/// The decoded config and recently used key metadata of one mount, so a
/// read does not decrypt and parse them every time. Secret data is never
/// cached. Every write of `config` or `metadata/...` goes through
/// [`save_config`] or [`commit`], which invalidate what they touch.
#[derive(Debug)]
pub(crate) struct Kv2Cache {
    config: DecodedCache<(), Arc<Config>>,
    metas: DecodedCache<String, Arc<KeyMeta>>,
}

impl Kv2Cache {
    pub(crate) fn new() -> Self {
        Self {
            config: DecodedCache::new(1),
            metas: DecodedCache::new(META_CACHE_CAPACITY),
        }
    }
}

/// The mount's config (defaults when never written).
pub(crate) async fn load_config(env: &Env<'_>) -> Result<Config, KvError> {
    if let Some(config) = env.cache.config.get(&()) {
        return Ok(config.as_ref().clone());
    }
    let ticket = env.cache.config.ticket();
    let key = Key::new(CONFIG_KEY)?;
    let config = match env.storage.get(&key).await? {
        Some(raw) => decode(&raw, "config")?,
        None => Config::default(),
    };
    env.cache
        .config
        .insert(ticket, (), Arc::new(config.clone()));
    Ok(config)
}

/// Stores the mount's config.
pub(crate) async fn save_config(env: &Env<'_>, config: &Config) -> Result<(), KvError> {
    let key = Key::new(CONFIG_KEY)?;
    let written = env.storage.put(&key, encode(config, "config")?).await;
    env.cache.config.invalidate(&());
    written?;
    Ok(())
}

/// The metadata of the secret at `path`, if it exists, shared with the
/// cache (for readers).
pub(crate) async fn load_meta_shared(
    env: &Env<'_>,
    path: &str,
) -> Result<Option<Arc<KeyMeta>>, KvError> {
    let key = meta_key(path)?;
    if let Some(meta) = env.cache.metas.get(path) {
        return Ok(Some(meta));
    }
    let ticket = env.cache.metas.ticket();
    match env.storage.get(&key).await? {
        Some(raw) => {
            let meta = Arc::new(decode::<KeyMeta>(&raw, "key metadata")?);
            env.cache
                .metas
                .insert(ticket, path.to_owned(), meta.clone());
            Ok(Some(meta))
        }
        None => Ok(None),
    }
}

/// The metadata of the secret at `path`, if it exists, as a copy to change.
pub(crate) async fn load_meta(env: &Env<'_>, path: &str) -> Result<Option<KeyMeta>, KvError> {
    Ok(load_meta_shared(env, path)
        .await?
        .map(|meta| meta.as_ref().clone()))
}

/// The write that stores `meta` for `path`.
pub(crate) fn put_meta(path: &str, meta: &KeyMeta) -> Result<WriteOp, KvError> {
    Ok(WriteOp::Put(meta_key(path)?, encode(meta, "key metadata")?))
}

/// The write that stores version `n`'s data.
pub(crate) fn put_version(
    path: &str,
    n: u64,
    data: &Map<String, Value>,
) -> Result<WriteOp, KvError> {
    Ok(WriteOp::Put(
        version_key(path, n)?,
        encode(data, "version data")?,
    ))
}

/// The write that removes version `n`'s data.
pub(crate) fn delete_version(path: &str, n: u64) -> Result<WriteOp, KvError> {
    Ok(WriteOp::Delete(version_key(path, n)?))
}

/// The data of version `n` of `path`.
pub(crate) async fn load_version(
    storage: &View,
    path: &str,
    n: u64,
) -> Result<Map<String, Value>, KvError> {
    match storage.get(&version_key(path, n)?).await? {
        Some(raw) => decode(&raw, "version data"),
        None => Err(KvError::MissingVersionData),
    }
}

/// Applies `ops` atomically, then drops the metadata they touch from the
/// cache.
pub(crate) async fn commit(env: &Env<'_>, ops: Vec<WriteOp>) -> Result<(), KvError> {
    let touched: Vec<String> = ops
        .iter()
        .filter_map(|op| {
            op.key()
                .as_str()
                .strip_prefix("metadata/")
                .map(str::to_owned)
        })
        .collect();
    let written = env.storage.write_batch(ops).await;
    // Invalidate even when the write failed: it may have been applied.
    for path in &touched {
        env.cache.metas.invalidate(path.as_str());
    }
    written?;
    Ok(())
}

/// Serialises read-modify-write cycles per secret path (striped locks held
/// across storage awaits).
#[derive(Debug)]
pub(crate) struct KeyLocks {
    stripes: Vec<tokio::sync::Mutex<()>>,
}

const LOCK_STRIPES: usize = 64;

impl KeyLocks {
    pub(crate) fn new() -> Self {
        Self {
            stripes: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// Locks the stripe of `path`; the guard releases it.
    pub(crate) async fn lock(&self, path: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        path.hash(&mut hasher);
        // `stripes` always holds LOCK_STRIPES (> 0) entries, so the modulo
        // index is in bounds.
        let index = usize::try_from(hasher.finish() % LOCK_STRIPES as u64).unwrap_or(0);
        self.stripes[index].lock().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn ts(secs: u64) -> Timestamp {
        Timestamp::from_system(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn add_version_moves_the_window_like_vault() {
        let mut meta = KeyMeta::default();
        for i in 1..=9 {
            let (n, removed) = meta.add_version(ts(i), None, 0);
            assert_eq!((n, removed.len()), (i, 0));
        }
        assert_eq!(meta.oldest_version, 0);
        // The tenth write reaches the default window of 10: Vault moves
        // oldest_version to 1 without removing anything.
        let (_, removed) = meta.add_version(ts(10), None, 0);
        assert!(removed.is_empty());
        assert_eq!(meta.oldest_version, 1);
        let (_, removed) = meta.add_version(ts(11), None, 0);
        assert_eq!(removed, vec![1]);
        assert_eq!(meta.versions.len(), 10);
        // Lowering max_versions drops several at once.
        meta.max_versions = 3;
        let (_, removed) = meta.add_version(ts(12), None, 0);
        assert_eq!(removed, (2..=9).collect::<Vec<_>>());
        assert_eq!(
            meta.versions.keys().copied().collect::<Vec<_>>(),
            vec![10, 11, 12]
        );
        assert_eq!(meta.oldest_version, 10);
        assert_eq!(meta.created_time, Some(ts(1)));
        assert_eq!(meta.updated_time, Some(ts(12)));
    }

    #[test]
    fn the_larger_of_mount_and_key_max_versions_wins() {
        let mut meta = KeyMeta {
            max_versions: 2,
            ..KeyMeta::default()
        };
        for i in 1..=5 {
            meta.add_version(ts(i), None, 4);
        }
        assert_eq!(meta.versions.len(), 4);
    }

    #[test]
    fn deletion_time_takes_smallest_non_zero() {
        assert_eq!(deletion_time(ts(0), 0, 0), None);
        assert_eq!(deletion_time(ts(0), 10, 0), Some(ts(10)));
        assert_eq!(deletion_time(ts(0), 0, 20), Some(ts(20)));
        assert_eq!(deletion_time(ts(0), 30, 20), Some(ts(20)));
        let disabled = Config {
            delete_version_after: -1,
            ..Config::default()
        };
        let meta = KeyMeta {
            delete_version_after: 5,
            ..KeyMeta::default()
        };
        assert_eq!(scheduled_deletion(&disabled, &meta, ts(0)), None);
        assert_eq!(
            scheduled_deletion(&Config::default(), &meta, ts(0)),
            Some(ts(5))
        );
    }

    #[test]
    fn paths_are_validated_into_keys() {
        assert_eq!(meta_key("a/b").unwrap().as_str(), "metadata/a/b");
        assert_eq!(version_key("a/b", 3).unwrap().as_str(), "versions/a/b/3");
        for bad in ["", "a/", "a//b", "a/../b", "a\0"] {
            assert!(meta_key(bad).is_err(), "{bad:?}");
        }
        assert_eq!(meta_prefix("").unwrap().as_str(), "metadata/");
    }

    #[tokio::test]
    async fn locks_serialise_the_same_path() {
        let locks = KeyLocks::new();
        let guard = locks.lock("a").await;
        assert!(locks.stripes.iter().any(|m| m.try_lock().is_err()));
        drop(guard);
        assert!(locks.stripes.iter().all(|m| m.try_lock().is_ok()));
    }
}
