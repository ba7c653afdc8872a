//! The mount's storage layout. Nothing secret is stored in clear: secret ids,
//! role ids (in keys) and accessors (in keys) appear only as HMAC-SHA256
//! under a random per-mount salt kept at `salt`.
//!
//! ```text
//! salt                                   32 random bytes
//! role/<lowercased name>                 Role (JSON)
//! role_id/<hmac(role id)>                {"name": <role name>}
//! secret_id[_local]/<role dir>/<hmac(secret id)>   SecretIdEntry (JSON)
//! accessor[_local]/<hmac(accessor)>      AccessorEntry (JSON)
//! ```
//!
//! `<role dir>` is the HMAC of the role name. Every write that must be
//! consistent with a read is made under the backend's write lock.

use std::any::Any;
use std::sync::Arc;

use coffer_crypto::{HmacSha256Key, Secret, ct_eq, fill_random};
use coffer_storage::cache::DecodedCache;
use coffer_storage::{Key, Prefix, Storage, View, WriteOp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::AppRoleError;
use crate::role::Role;
use crate::secret_id::{AccessorEntry, SecretIdEntry};

type Result<T> = std::result::Result<T, AppRoleError>;

const SALT_KEY: &str = "salt";
const SALT_LEN: usize = 32;

/// The role-id index entry.
#[derive(Clone, Serialize, Deserialize)]
struct RoleIdEntry {
    name: String,
}

/// The mount's salt, loaded (or created) on first use and kept as a
/// prepared HMAC key for the life of the backend.
pub(crate) type SaltCell = tokio::sync::OnceCell<HmacSha256Key>;

/// Decoded records of the mount by storage key (roles, the role-id index,
/// secret-id entries and their accessors, none of which holds a secret in
/// clear), so a login does not decrypt and parse four records each time.
/// Every write goes through [`Store::commit`], which invalidates.
pub(crate) type RecordCache = DecodedCache<String, Arc<dyn Any + Send + Sync>>;

/// Records a mount keeps decoded: twice this many at most.
const RECORD_CACHE_CAPACITY: usize = 2048;

/// A new, empty [`RecordCache`].
pub(crate) fn record_cache() -> RecordCache {
    DecodedCache::new(RECORD_CACHE_CAPACITY)
}

/// The mount's storage, with its salt loaded.
pub(crate) struct Store<'a> {
    view: &'a View,
    salt: &'a HmacSha256Key,
    records: &'a RecordCache,
}

fn key(s: String) -> Result<Key> {
    Ok(Key::new(s)?)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

fn encode<T: Serialize>(value: &T, what: &'static str) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|_| AppRoleError::Encode(what))
}

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|_| AppRoleError::Corrupt(what))
}

impl<'a> Store<'a> {
    /// Opens the mount's storage, loading its salt into `salt` on first use
    /// and creating it if the mount has none (concurrent first requests
    /// agree on one salt: the cell runs one initialisation at a time).
    pub(crate) async fn open(
        view: &'a View,
        salt: &'a SaltCell,
        records: &'a RecordCache,
    ) -> Result<Self> {
        let salt = salt
            .get_or_try_init(|| async {
                let salt_key = key(SALT_KEY.to_owned())?;
                if let Some(salt) = Self::read_salt(view, &salt_key).await? {
                    return Ok::<_, AppRoleError>(HmacSha256Key::new(salt.expose()));
                }
                let mut salt = Secret::new([0u8; SALT_LEN]);
                fill_random(salt.expose_mut())?;
                view.put(&salt_key, salt.expose().to_vec()).await?;
                Ok(HmacSha256Key::new(salt.expose()))
            })
            .await?;
        Ok(Self {
            view,
            salt,
            records,
        })
    }

    async fn read_salt(view: &View, salt_key: &Key) -> Result<Option<Secret<[u8; SALT_LEN]>>> {
        let Some(mut bytes) = view.get(salt_key).await? else {
            return Ok(None);
        };
        let mut salt = Secret::new([0u8; SALT_LEN]);
        let ok = bytes.len() == SALT_LEN;
        if ok {
            salt.expose_mut().copy_from_slice(&bytes);
        }
        bytes.iter_mut().for_each(|b| *b = 0);
        if ok {
            Ok(Some(salt))
        } else {
            Err(AppRoleError::Corrupt("salt"))
        }
    }

    /// The hex HMAC of `value` in the given domain (so a role id and a
    /// secret id with the same text never share a key).
    fn mac(&self, domain: &str, value: &str) -> String {
        let mut input = Vec::with_capacity(domain.len() + 1 + value.len());
        input.extend_from_slice(domain.as_bytes());
        input.push(0);
        input.extend_from_slice(value.as_bytes());
        let out = hex(&self.salt.sign(&input));
        input.iter_mut().for_each(|b| *b = 0);
        out
    }

    /// The hex HMAC of a secret id.
    pub(crate) fn secret_id_hmac(&self, secret_id: &str) -> String {
        self.mac("secret_id", secret_id)
    }

    /// Constant-time comparison of two HMACs.
    pub(crate) fn same_hmac(a: &str, b: &str) -> bool {
        ct_eq(a.as_bytes(), b.as_bytes())
    }

    async fn get_json<T: DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        k: &Key,
        what: &'static str,
    ) -> Result<Option<T>> {
        if let Some(hit) = self.records.get(k.as_str())
            && let Some(record) = hit.downcast_ref::<T>()
        {
            return Ok(Some(record.clone()));
        }
        let ticket = self.records.ticket();
        match self.view.get(k).await? {
            Some(bytes) => {
                let record: T = decode(&bytes, what)?;
                self.records
                    .insert(ticket, k.as_str().to_owned(), Arc::new(record.clone()));
                Ok(Some(record))
            }
            None => Ok(None),
        }
    }

    /// Applies `ops` atomically, then drops the records they touch from the
    /// cache. Every write of the store goes through here.
    async fn commit(&self, ops: Vec<WriteOp>) -> Result<()> {
        let touched: Vec<String> = ops.iter().map(|op| op.key().as_str().to_owned()).collect();
        let written = self.view.write_batch(ops).await;
        // Invalidated even when the write failed: it may have been applied.
        for k in &touched {
            self.records.invalidate(k.as_str());
        }
        Ok(written?)
    }

    // ---- roles ----

    fn role_key(name: &str) -> Result<Key> {
        key(format!("role/{}", name.to_lowercase()))
    }

    fn role_id_key(&self, role_id: &str) -> Result<Key> {
        key(format!("role_id/{}", self.mac("role_id", role_id)))
    }

    /// The role called `name` (case-insensitive).
    pub(crate) async fn role(&self, name: &str) -> Result<Option<Role>> {
        self.get_json(&Self::role_key(name)?, "role").await
    }

    /// Every role name, sorted.
    pub(crate) async fn role_names(&self) -> Result<Vec<String>> {
        Ok(self.view.list(&Prefix::new("role/")?).await?)
    }

    /// The name of the role whose role id is `role_id`, if any.
    pub(crate) async fn role_name_by_id(&self, role_id: &str) -> Result<Option<String>> {
        let entry: Option<RoleIdEntry> = self
            .get_json(&self.role_id_key(role_id)?, "role_id index")
            .await?;
        Ok(entry.map(|e| e.name))
    }

    /// Stores `role` and its role-id index. Fails if the role id belongs to
    /// another role; `previous_role_id` is the id the role had before (its
    /// index is removed when the id changed). Call under the write lock.
    pub(crate) async fn put_role(&self, role: &Role, previous_role_id: Option<&str>) -> Result<()> {
        role.check_constraints()?;
        let index_key = self.role_id_key(&role.role_id)?;
        let existing: Option<RoleIdEntry> = self.get_json(&index_key, "role_id index").await?;
        if existing.is_some_and(|e| e.name != role.name) {
            return Err(AppRoleError::RoleIdInUse);
        }
        let mut ops = vec![
            WriteOp::Put(Self::role_key(&role.name)?, encode(role, "role")?),
            WriteOp::Put(
                index_key,
                encode(
                    &RoleIdEntry {
                        name: role.name.clone(),
                    },
                    "role_id index",
                )?,
            ),
        ];
        if let Some(prev) = previous_role_id.filter(|p| *p != role.role_id) {
            ops.push(WriteOp::Delete(self.role_id_key(prev)?));
        }
        self.commit(ops).await
    }

    /// Deletes `role`, its role-id index and every secret id it issued.
    /// Call under the write lock.
    pub(crate) async fn delete_role(&self, role: &Role) -> Result<()> {
        for (_, entry) in self.secret_ids(role).await? {
            self.delete_secret_id(role, &entry).await?;
        }
        self.commit(vec![
            WriteOp::Delete(self.role_id_key(&role.role_id)?),
            WriteOp::Delete(Self::role_key(&role.name)?),
        ])
        .await
    }

    // ---- secret ids ----

    fn role_dir(&self, role: &Role) -> String {
        self.mac("role", &role.name)
    }

    fn secret_key(&self, role: &Role, secret_id_hmac: &str) -> Result<Key> {
        key(format!(
            "{}{}/{}",
            role.secret_id_prefix(),
            self.role_dir(role),
            secret_id_hmac
        ))
    }

    fn accessor_key(&self, role: &Role, accessor: &str) -> Result<Key> {
        key(format!(
            "{}{}",
            role.accessor_prefix(),
            self.mac("accessor", accessor)
        ))
    }

    /// The secret id of `role` whose HMAC is `secret_id_hmac`.
    pub(crate) async fn secret_id(
        &self,
        role: &Role,
        secret_id_hmac: &str,
    ) -> Result<Option<SecretIdEntry>> {
        self.get_json(&self.secret_key(role, secret_id_hmac)?, "secret id")
            .await
    }

    /// Every secret id of `role`, with its storage name.
    pub(crate) async fn secret_ids(&self, role: &Role) -> Result<Vec<(String, SecretIdEntry)>> {
        let dir = Prefix::new(format!(
            "{}{}/",
            role.secret_id_prefix(),
            self.role_dir(role)
        ))?;
        let mut out = Vec::new();
        for name in self.view.list(&dir).await? {
            if let Some(entry) = self.get_json(&dir.join(&name)?, "secret id").await? {
                out.push((name, entry));
            }
        }
        Ok(out)
    }

    /// Stores a new secret id and its accessor index atomically.
    pub(crate) async fn create_secret_id(&self, role: &Role, entry: &SecretIdEntry) -> Result<()> {
        let index = AccessorEntry {
            secret_id_hmac: entry.secret_id_hmac.clone(),
            role_dir: self.role_dir(role),
        };
        self.commit(vec![
            WriteOp::Put(
                self.accessor_key(role, &entry.accessor)?,
                encode(&index, "accessor")?,
            ),
            WriteOp::Put(
                self.secret_key(role, &entry.secret_id_hmac)?,
                encode(entry, "secret id")?,
            ),
        ])
        .await
    }

    /// Rewrites an existing secret id (its use count).
    pub(crate) async fn update_secret_id(&self, role: &Role, entry: &SecretIdEntry) -> Result<()> {
        self.commit(vec![WriteOp::Put(
            self.secret_key(role, &entry.secret_id_hmac)?,
            encode(entry, "secret id")?,
        )])
        .await
    }

    /// Removes a secret id and its accessor index atomically.
    pub(crate) async fn delete_secret_id(&self, role: &Role, entry: &SecretIdEntry) -> Result<()> {
        self.commit(vec![
            WriteOp::Delete(self.accessor_key(role, &entry.accessor)?),
            WriteOp::Delete(self.secret_key(role, &entry.secret_id_hmac)?),
        ])
        .await
    }

    /// The accessor index entry of `accessor`, if it belongs to `role`.
    pub(crate) async fn accessor(
        &self,
        role: &Role,
        accessor: &str,
    ) -> Result<Option<AccessorEntry>> {
        let entry: Option<AccessorEntry> = self
            .get_json(&self.accessor_key(role, accessor)?, "accessor")
            .await?;
        let dir = self.role_dir(role);
        Ok(entry.filter(|e| Self::same_hmac(&e.role_dir, &dir)))
    }

    /// Removes expired secret ids, secret ids without an accessor index, and
    /// accessor index entries without a secret id, under one pair of
    /// prefixes. Returns how many records were removed. Call under the
    /// write lock.
    pub(crate) async fn tidy(
        &self,
        secret_prefix: &str,
        accessor_prefix: &str,
        now: coffer_types::timestamp::Timestamp,
    ) -> Result<usize> {
        let mut removed = 0;
        let top = Prefix::new(secret_prefix)?;
        for dir in self.view.list(&top).await? {
            let Some(dir) = dir.strip_suffix('/') else {
                continue;
            };
            let dir = top.join_prefix(&format!("{dir}/"))?;
            for name in self.view.list(&dir).await? {
                let k = dir.join(&name)?;
                let Some(entry) = self.get_json::<SecretIdEntry>(&k, "secret id").await? else {
                    continue;
                };
                let accessor_key = key(format!(
                    "{accessor_prefix}{}",
                    self.mac("accessor", &entry.accessor)
                ))?;
                let indexed = self.view.get(&accessor_key).await?.is_some();
                if !indexed || entry.expired(now) {
                    self.commit(vec![WriteOp::Delete(accessor_key), WriteOp::Delete(k)])
                        .await?;
                    removed += 1;
                }
            }
        }
        let accessors = Prefix::new(accessor_prefix)?;
        for name in self.view.list(&accessors).await? {
            let k = accessors.join(&name)?;
            let Some(index) = self.get_json::<AccessorEntry>(&k, "accessor").await? else {
                continue;
            };
            let target = key(format!(
                "{secret_prefix}{}/{}",
                index.role_dir, index.secret_id_hmac
            ))?;
            if self.view.get(&target).await?.is_none() {
                self.commit(vec![WriteOp::Delete(k)]).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use coffer_storage::MemoryStorage;

    fn view() -> View {
        View::new(
            Arc::new(MemoryStorage::new()),
            Prefix::new("auth/x/").unwrap(),
        )
    }

    #[test]
    fn hex_encodes() {
        assert_eq!(hex(&[0x00, 0xab, 0x5f]), "00ab5f");
    }

    #[tokio::test]
    async fn salt_is_created_once_and_domains_differ() {
        let v = view();
        let cell = SaltCell::new();
        let records = record_cache();
        let a = Store::open(&v, &cell, &records).await.unwrap();
        // Another backend over the same storage reads the stored salt.
        let fresh = SaltCell::new();
        let b = Store::open(&v, &fresh, &records).await.unwrap();
        assert_eq!(a.secret_id_hmac("x"), b.secret_id_hmac("x"));
        assert_ne!(a.mac("role_id", "x"), a.mac("secret_id", "x"));
        let other = view();
        let other_cell = SaltCell::new();
        let other_records = record_cache();
        let c = Store::open(&other, &other_cell, &other_records)
            .await
            .unwrap();
        assert_ne!(a.secret_id_hmac("x"), c.secret_id_hmac("x"));
    }

    #[tokio::test]
    async fn role_id_index_follows_the_role() {
        let v = view();
        let cell = SaltCell::new();
        let records = record_cache();
        let s = Store::open(&v, &cell, &records).await.unwrap();
        let mut role = Role::new("web", "id-1".into());
        s.put_role(&role, None).await.unwrap();
        assert_eq!(
            s.role_name_by_id("id-1").await.unwrap().as_deref(),
            Some("web")
        );
        role.role_id = "id-2".into();
        s.put_role(&role, Some("id-1")).await.unwrap();
        assert!(s.role_name_by_id("id-1").await.unwrap().is_none());
        let other = Role::new("db", "id-2".into());
        assert!(matches!(
            s.put_role(&other, None).await,
            Err(AppRoleError::RoleIdInUse)
        ));
        s.delete_role(&role).await.unwrap();
        assert!(s.role("WEB").await.unwrap().is_none());
        assert!(s.role_name_by_id("id-2").await.unwrap().is_none());
    }
}
