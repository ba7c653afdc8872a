//! The token store itself: storage layout, lookup (with expiry and parent
//! checks) and accessors. Creation is in `create.rs`, use counting and
//! renewal in `uses.rs`, revocation in `revoke.rs`.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use coffer_crypto::ct_eq;
use coffer_sdk::Clock;
use coffer_sdk::cache::DecodedCache;
use coffer_storage::{Key, Prefix, Storage, View, WriteOp};
use serde::{Deserialize, Serialize};

use crate::batch::{BatchKey, is_batch_token};
use crate::salt::Salt;
use crate::{LoginRenewer, Result, TokenEntry, TokenError, TtlLimits};

/// Length of the random part of a token (`hvs.` + 24 characters).
pub const TOKEN_RANDOM_LEN: usize = 24;
/// Prefix of service tokens.
pub const SERVICE_TOKEN_PREFIX: &str = "hvs.";
/// Length of an accessor.
pub const ACCESSOR_LEN: usize = 24;
/// Token entries kept decoded in memory: twice this many at most.
const ENTRY_CACHE_CAPACITY: usize = 4096;
/// Guard against corrupt parent chains (cycles): deeper chains are refused.
const MAX_CHAIN_DEPTH: usize = 10_000;

/// Called for every token the store revokes, before its entry is deleted
/// (the core wipes the token's cubbyhole by [`TokenEntry::scope_id`] and
/// revokes its leases). It runs while the store's write lock is held, so it
/// must not call back into the store's mutating methods.
#[async_trait]
pub trait RevocationHook: Send + Sync {
    /// The token described by `entry` is being revoked. An error stops the
    /// revocation; the token stays unusable and the revocation is retried.
    async fn token_revoked(&self, entry: &TokenEntry) -> coffer_types::Result<()>;
}

/// The accessor index entry: maps an accessor back to its token's id hash.
#[derive(Serialize, Deserialize)]
pub(crate) struct AccessorEntry {
    pub(crate) accessor: String,
    pub(crate) id_hash: String,
}

/// The outcome of validating a token and its chain of parents.
pub(crate) enum Check {
    /// The token authenticates.
    Valid(Arc<TokenEntry>),
    /// Unknown, or being revoked.
    Invalid,
    /// The token is dead (expired, or an ancestor expired or vanished): the
    /// subtree rooted at this id hash must be revoked.
    Revoke(String),
}

/// Vault's token store. See the crate documentation.
pub struct TokenStore {
    pub(crate) view: View,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) limits: TtlLimits,
    pub(crate) salt: Salt,
    /// Serialises every write (creation, uses, renewal, revocation).
    pub(crate) lock: tokio::sync::Mutex<()>,
    pub(crate) hook: RwLock<Option<Arc<dyn RevocationHook>>>,
    pub(crate) renewer: RwLock<Option<Arc<dyn LoginRenewer>>>,
    pub(crate) batch_key: BatchKey,
    pub(crate) tidy_running: AtomicBool,
    /// Decoded entries by id hash, so that authenticating a request does not
    /// read, decrypt and parse its token entry (and its parents') each time.
    /// Every write of an `id/` key goes through [`TokenStore::commit`],
    /// which invalidates it.
    pub(crate) entries: DecodedCache<String, Arc<TokenEntry>>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("view", &self.view)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

pub(crate) fn id_key(hash: &str) -> Result<Key> {
    Ok(Key::new(format!("id/{hash}"))?)
}

pub(crate) fn accessor_key(accessor_hash: &str) -> Result<Key> {
    Ok(Key::new(format!("accessor/{accessor_hash}"))?)
}

pub(crate) fn parent_key(parent: &str, child: &str) -> Result<Key> {
    Ok(Key::new(format!("parent/{parent}/{child}"))?)
}

pub(crate) fn parent_prefix(parent: &str) -> Result<Prefix> {
    Ok(Prefix::new(format!("parent/{parent}/"))?)
}

impl TokenStore {
    /// A store on `storage` (the core passes a barrier view, e.g.
    /// `sys/token/`), reading time from `clock`, bounding TTLs by `limits`.
    pub fn new(storage: View, clock: Arc<dyn Clock>, limits: TtlLimits) -> Self {
        Self {
            view: storage,
            clock,
            limits,
            salt: Salt::new(),
            lock: tokio::sync::Mutex::new(()),
            hook: RwLock::new(None),
            renewer: RwLock::new(None),
            batch_key: BatchKey::new(),
            tidy_running: AtomicBool::new(false),
            entries: DecodedCache::new(ENTRY_CACHE_CAPACITY),
        }
    }

    /// Installs the hook called for each revoked token (replacing any other).
    pub fn set_revocation_hook(&self, hook: Arc<dyn RevocationHook>) {
        let mut slot = self.hook.write().unwrap_or_else(|p| p.into_inner());
        *slot = Some(hook);
    }

    /// The TTL bounds this store applies.
    pub fn limits(&self) -> TtlLimits {
        self.limits
    }

    /// The storage id (salted HMAC) of `token`. Not secret, but not the token.
    pub async fn hash_token(&self, token: &str) -> Result<String> {
        self.salt.token_id(&self.view, token).await
    }

    /// The stored entry under `hash`, shared with the decoded cache.
    pub(crate) async fn load_shared(&self, hash: &str) -> Result<Option<Arc<TokenEntry>>> {
        if let Some(entry) = self.entries.get(hash) {
            return Ok(Some(entry));
        }
        let ticket = self.entries.ticket();
        let key = id_key(hash)?;
        match self.view.get(&key).await? {
            None => Ok(None),
            Some(bytes) => {
                let entry: TokenEntry = serde_json::from_slice(&bytes)
                    .map_err(|e| TokenError::corrupt(key.as_str(), e))?;
                let entry = Arc::new(entry);
                self.entries.insert(ticket, hash.to_owned(), entry.clone());
                Ok(Some(entry))
            }
        }
    }

    /// The stored entry under `hash`, as a copy to change.
    pub(crate) async fn load_raw(&self, hash: &str) -> Result<Option<TokenEntry>> {
        Ok(self
            .load_shared(hash)
            .await?
            .map(|entry| entry.as_ref().clone()))
    }

    pub(crate) fn encode(entry: &TokenEntry) -> Result<Vec<u8>> {
        serde_json::to_vec(entry)
            .map_err(|e| TokenError::corrupt(&format!("id/{}", entry.id_hash), e))
    }

    pub(crate) async fn save(&self, entry: &TokenEntry) -> Result<()> {
        self.commit(vec![WriteOp::Put(
            id_key(&entry.id_hash)?,
            Self::encode(entry)?,
        )])
        .await
    }

    /// Applies `ops` to the token view atomically, then drops every token
    /// entry they touch from the decoded cache. Every write of the store
    /// goes through here.
    pub(crate) async fn commit(&self, ops: Vec<WriteOp>) -> Result<()> {
        let touched: Vec<String> = ops
            .iter()
            .filter_map(|op| op.key().as_str().strip_prefix("id/").map(str::to_owned))
            .collect();
        let written = self.view.write_batch(ops).await;
        // Invalidate even when the write failed: it may have been applied.
        for hash in &touched {
            self.entries.invalidate(hash.as_str());
        }
        written?;
        Ok(())
    }

    /// Validates the token stored under `hash` and its parent chain.
    pub(crate) async fn check(&self, hash: &str, tainted: bool) -> Result<Check> {
        let Some(entry) = self.load_shared(hash).await? else {
            return Ok(Check::Invalid);
        };
        // The entry was found by its hash; compare again in constant time so
        // that a corrupt or misplaced entry can never authenticate.
        if !ct_eq(entry.id_hash.as_bytes(), hash.as_bytes()) {
            return Ok(Check::Invalid);
        }
        let now = self.clock.now();
        if entry.is_expired_at(now) {
            return Ok(Check::Revoke(hash.to_owned()));
        }
        if entry.revocation_pending && !tainted {
            return Ok(Check::Invalid);
        }
        let mut child = hash.to_owned();
        let mut next = entry.parent.clone();
        let mut depth = 0;
        while let Some(parent_hash) = next {
            depth += 1;
            if depth > MAX_CHAIN_DEPTH {
                return Ok(Check::Invalid);
            }
            match self.load_shared(&parent_hash).await? {
                None => return Ok(Check::Revoke(child)),
                Some(parent) if parent.is_expired_at(now) => return Ok(Check::Revoke(parent_hash)),
                Some(parent) if parent.revocation_pending => return Ok(Check::Invalid),
                Some(parent) => {
                    next = parent.parent.clone();
                    child = parent_hash;
                }
            }
        }
        Ok(Check::Valid(entry))
    }

    /// Resolves a hash to a valid entry, revoking dead subtrees on the way.
    pub(crate) async fn resolve(&self, hash: &str, tainted: bool) -> Result<Option<TokenEntry>> {
        Ok(self
            .resolve_shared(hash, tainted)
            .await?
            .map(|entry| entry.as_ref().clone()))
    }

    /// [`TokenStore::resolve`], sharing the entry with the decoded cache.
    pub(crate) async fn resolve_shared(
        &self,
        hash: &str,
        tainted: bool,
    ) -> Result<Option<Arc<TokenEntry>>> {
        match self.check(hash, tainted).await? {
            Check::Valid(entry) => Ok(Some(entry)),
            Check::Invalid => Ok(None),
            Check::Revoke(root) => {
                // Rare, and a large future: boxed so lookups stay small.
                Box::pin(async {
                    let _guard = self.lock.lock().await;
                    self.revoke_tree_locked(&root).await
                })
                .await?;
                Ok(None)
            }
        }
    }

    /// [`TokenStore::resolve`] for callers that already hold the write lock.
    pub(crate) async fn resolve_locked(
        &self,
        hash: &str,
        tainted: bool,
    ) -> Result<Option<TokenEntry>> {
        match self.check(hash, tainted).await? {
            Check::Valid(entry) => Ok(Some(entry.as_ref().clone())),
            Check::Invalid => Ok(None),
            Check::Revoke(root) => {
                self.revoke_tree_locked(&root).await?;
                Ok(None)
            }
        }
    }

    /// Looks a token up. `None` for unknown, revoked, used-up or expired
    /// tokens, and for tokens whose parent has expired or been revoked;
    /// expired tokens are revoked (with their children) on the spot.
    ///
    /// Batch (`hvb.`) tokens are decrypted rather than read: `None` when
    /// tampered with, expired, or when their parent is no longer valid. Their
    /// entry has `token_type` `batch`, no accessor and no cubbyhole (empty
    /// [`TokenEntry::scope_id`]). The caller must still check the CIDR
    /// binding ([`TokenEntry::cidr_allowed`]).
    pub async fn lookup(&self, token: &str) -> Result<Option<TokenEntry>> {
        if token.is_empty() {
            return Ok(None);
        }
        if is_batch_token(token) {
            return self.lookup_batch(token).await;
        }
        let hash = self.hash_token(token).await?;
        self.resolve(&hash, false).await
    }

    /// [`TokenStore::lookup`], sharing the entry with the decoded cache
    /// rather than copying it: what authenticating a request needs.
    pub async fn lookup_shared(&self, token: &str) -> Result<Option<Arc<TokenEntry>>> {
        if token.is_empty() {
            return Ok(None);
        }
        if is_batch_token(token) {
            return Ok(self.lookup_batch(token).await?.map(Arc::new));
        }
        let hash = self.hash_token(token).await?;
        self.resolve_shared(&hash, false).await
    }

    /// Looks a token up by its storage id ([`TokenEntry::id_hash`]), with the
    /// same validity rules as [`TokenStore::lookup`]. For the expiration
    /// manager, which knows tokens only by that id.
    pub async fn lookup_by_hash(&self, id_hash: &str) -> Result<Option<TokenEntry>> {
        if id_hash.is_empty() {
            return Ok(None);
        }
        self.resolve(id_hash, false).await
    }

    /// Like [`TokenStore::lookup`], but also returns a token whose last use is
    /// being spent by the current request (Vault's "tainted" lookup, used by
    /// `lookup-self`).
    pub async fn lookup_tainted(&self, token: &str) -> Result<Option<TokenEntry>> {
        if token.is_empty() {
            return Ok(None);
        }
        if is_batch_token(token) {
            return self.lookup_batch(token).await;
        }
        let hash = self.hash_token(token).await?;
        self.resolve(&hash, true).await
    }

    /// [`TokenStore::lookup_tainted`] by the token's storage id
    /// ([`TokenEntry::id_hash`]), for a caller the core has already
    /// authenticated (`Request::token_id`).
    pub async fn lookup_tainted_by_id(&self, id_hash: &str) -> Result<Option<Arc<TokenEntry>>> {
        if id_hash.is_empty() {
            return Ok(None);
        }
        self.resolve_shared(id_hash, true).await
    }

    /// Looks a token up by accessor (same validity rules as [`TokenStore::lookup`]).
    pub async fn lookup_accessor(&self, accessor: &str) -> Result<Option<TokenEntry>> {
        if accessor.is_empty() {
            return Ok(None);
        }
        let Some(index) = self.load_accessor(accessor).await? else {
            return Ok(None);
        };
        self.resolve(&index.id_hash, false).await
    }

    pub(crate) async fn load_accessor(&self, accessor: &str) -> Result<Option<AccessorEntry>> {
        let key = accessor_key(&self.salt.accessor_id(&self.view, accessor).await?)?;
        let Some(bytes) = self.view.get(&key).await? else {
            return Ok(None);
        };
        let index: AccessorEntry =
            serde_json::from_slice(&bytes).map_err(|e| TokenError::corrupt(key.as_str(), e))?;
        if !ct_eq(index.accessor.as_bytes(), accessor.as_bytes()) {
            return Ok(None);
        }
        Ok(Some(index))
    }

    /// Every accessor in the store (including those of tokens not yet tidied).
    pub async fn list_accessors(&self) -> Result<Vec<String>> {
        let prefix = Prefix::new("accessor/")?;
        let mut out = Vec::new();
        for name in self.view.list(&prefix).await? {
            let key = prefix.join(&name)?;
            if let Some(bytes) = self.view.get(&key).await? {
                let index: AccessorEntry = serde_json::from_slice(&bytes)
                    .map_err(|e| TokenError::corrupt(key.as_str(), e))?;
                out.push(index.accessor);
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::CreateParams;
    use coffer_sdk::ManualClock;
    use coffer_storage::MemoryStorage;
    use std::sync::Mutex;
    use std::time::Duration;

    pub(crate) struct Fixture {
        pub mem: Arc<dyn Storage>,
        pub clock: Arc<ManualClock>,
        pub store: TokenStore,
    }

    pub(crate) fn fixture() -> Fixture {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let clock = Arc::new(ManualClock::starting_now());
        let store = TokenStore::new(
            View::new(mem.clone(), Prefix::new("sys/token/").unwrap()),
            clock.clone(),
            TtlLimits {
                default_ttl: Duration::from_secs(3600),
                max_ttl: Duration::from_secs(10 * 3600),
            },
        );
        Fixture { mem, clock, store }
    }

    pub(crate) fn child_of(parent: &TokenEntry) -> CreateParams {
        CreateParams {
            policies: vec!["default".into()],
            parent: Some(parent.id_hash.clone()),
            ..CreateParams::default()
        }
    }

    /// Records the accessors of revoked tokens.
    #[derive(Default)]
    pub(crate) struct Recorder(pub Mutex<Vec<String>>);

    #[async_trait]
    impl RevocationHook for Recorder {
        async fn token_revoked(&self, entry: &TokenEntry) -> coffer_types::Result<()> {
            self.0.lock().unwrap().push(entry.accessor.clone());
            Ok(())
        }
    }

    #[tokio::test]
    async fn expiry_is_exact_and_revokes_lazily() {
        let f = fixture();
        let recorder = Arc::new(Recorder::default());
        f.store.set_revocation_hook(recorder.clone());
        let (token, entry) = f
            .store
            .create(CreateParams {
                ttl: Duration::from_secs(600),
                ..CreateParams::default()
            })
            .await
            .unwrap();
        f.clock.advance(Duration::from_secs(599));
        assert!(f.store.lookup(token.expose()).await.unwrap().is_some());
        assert!(recorder.0.lock().unwrap().is_empty());
        f.clock.advance(Duration::from_secs(1));
        assert!(
            f.store.lookup(token.expose()).await.unwrap().is_none(),
            "dead exactly at its TTL"
        );
        assert_eq!(
            *recorder.0.lock().unwrap(),
            vec![entry.accessor.clone()],
            "revoked lazily"
        );
        assert!(f.store.load_raw(&entry.id_hash).await.unwrap().is_none());
        assert!(
            f.store
                .lookup_accessor(&entry.accessor)
                .await
                .unwrap()
                .is_none()
        );
        assert!(f.store.list_accessors().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn expired_parent_takes_its_children() {
        let f = fixture();
        let (_, parent) = f
            .store
            .create(CreateParams {
                ttl: Duration::from_secs(60),
                ..CreateParams::default()
            })
            .await
            .unwrap();
        let (child, _) = f
            .store
            .create(CreateParams {
                ttl: Duration::from_secs(3600),
                ..child_of(&parent)
            })
            .await
            .unwrap();
        f.clock.advance(Duration::from_secs(60));
        assert!(
            f.store.lookup(child.expose()).await.unwrap().is_none(),
            "the parent's expiry revokes the child"
        );
        assert!(f.store.load_raw(&parent.id_hash).await.unwrap().is_none());
        assert!(matches!(
            f.store.create(child_of(&parent)).await,
            Err(TokenError::ParentNotFound)
        ));
    }

    #[tokio::test]
    async fn constant_time_check_rejects_misplaced_entries() {
        let f = fixture();
        let (_, victim) = f.store.create(CreateParams::default()).await.unwrap();
        // Copy the victim's entry under the hash of another token: the stored
        // id hash no longer matches, so that token must not authenticate.
        let forged = "hvs.forgedforgedforgedforged";
        let forged_hash = f.store.hash_token(forged).await.unwrap();
        let bytes = TokenStore::encode(&victim).unwrap();
        f.store
            .view
            .put(&id_key(&forged_hash).unwrap(), bytes)
            .await
            .unwrap();
        assert!(f.store.lookup(forged).await.unwrap().is_none());
    }
}
