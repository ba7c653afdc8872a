//! [`ExpirationManager`]: loading, registering, reading and the atomic
//! record-plus-index writes every other operation goes through.

use coffer_types::duration::time_after;
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use coffer_sdk::Clock;
use coffer_storage::{Key, Prefix, Storage, View, WriteOp};

use crate::Result;
use crate::entry::{LeaseEntry, LeaseKind, NewLease};
use crate::error::ExpirationError;
use crate::handler::LeaseHandler;
use crate::keys;
use crate::locks::LeaseLocks;

/// Length of the random part of a lease id (Vault's `TokenLength`).
const LEASE_RANDOM_LEN: usize = 24;

/// Owns every lease: registers them, renews them through the issuing
/// backend, and revokes them on request, on expiry (see
/// [`ExpirationManager::tick`]) or with their token.
///
/// Nothing about leases is kept in memory: each lease is one storage record
/// plus index entries (see the crate documentation), so loading is free and
/// a million live leases cost no memory here.
pub struct ExpirationManager {
    pub(crate) view: View,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) handler: Arc<dyn LeaseHandler>,
    pub(crate) locks: LeaseLocks,
    /// One `tick` at a time.
    pub(crate) ticking: tokio::sync::Mutex<()>,
    /// Set while a tidy runs (Vault runs one at a time).
    pub(crate) tidying: AtomicBool,
    /// To start background work (tidy) from `&self`.
    pub(crate) this: Weak<ExpirationManager>,
    /// The lease endpoints under `sys/` (see [`coffer_sdk::Backend`]).
    pub(crate) sys: coffer_sdk::PathTable<ExpirationManager>,
}

impl std::fmt::Debug for ExpirationManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpirationManager")
            .field("view", &self.view)
            .finish_non_exhaustive()
    }
}

impl ExpirationManager {
    /// The manager over `view` (the core's `sys/expire/` view). Reads
    /// nothing but a format marker: leases stay in storage until an
    /// operation or `tick` needs them, so this is as cheap after a restart or
    /// an unseal with a million leases as with none.
    pub async fn load(
        view: View,
        clock: Arc<dyn Clock>,
        handler: Arc<dyn LeaseHandler>,
    ) -> Result<Arc<Self>> {
        let marker = Key::new("meta/format")?;
        if view.get(&marker).await?.is_none() {
            view.put(&marker, b"1".to_vec()).await?;
        }
        Ok(Arc::new_cyclic(|this| Self {
            view,
            clock,
            handler,
            locks: LeaseLocks::default(),
            ticking: tokio::sync::Mutex::new(()),
            tidying: AtomicBool::new(false),
            this: this.clone(),
            sys: crate::sys::table(),
        }))
    }

    /// Registers a lease and returns it; its id is `<path>/<24 random
    /// characters>`. The TTL is capped by the max TTL.
    pub async fn register(&self, new: NewLease) -> Result<LeaseEntry> {
        let entry = self.new_entry(new, self.clock.now())?;
        self.commit(None, Some(&entry)).await?;
        Ok(entry)
    }

    /// A lease to register, and the writes that register it with keys as
    /// the view's underlying store knows them, for a caller that writes
    /// them atomically with its own (a login writes its token and the
    /// token's lease in one batch). Same rules as
    /// [`ExpirationManager::register`].
    pub fn prepare_register(&self, new: NewLease) -> Result<(LeaseEntry, Vec<WriteOp>)> {
        let entry = self.new_entry(new, self.clock.now())?;
        let ops = write_ops(None, Some(&entry))?
            .into_iter()
            .map(|op| self.view.absolute(op))
            .collect::<std::result::Result<_, _>>()?;
        Ok((entry, ops))
    }

    /// Registers many leases in one atomic storage write (bulk loads,
    /// benchmarks). Same rules as [`ExpirationManager::register`].
    pub async fn register_batch(&self, leases: Vec<NewLease>) -> Result<Vec<LeaseEntry>> {
        let now = self.clock.now();
        let mut entries = Vec::with_capacity(leases.len());
        let mut ops = Vec::with_capacity(leases.len() * 3);
        for new in leases {
            let entry = self.new_entry(new, now)?;
            ops.extend(write_ops(None, Some(&entry))?);
            entries.push(entry);
        }
        self.view.write_batch(ops).await?;
        Ok(entries)
    }

    fn new_entry(&self, new: NewLease, now: SystemTime) -> Result<LeaseEntry> {
        let path = new.path.trim_matches('/');
        if path.is_empty() || Prefix::new(path).is_err() {
            return Err(ExpirationError::InvalidPath(
                path.chars().take(256).collect(),
            ));
        }
        let suffix = match new.id_suffix {
            Some(s) if !s.is_empty() && !s.contains('/') && Prefix::new(s.as_str()).is_ok() => s,
            Some(s) => {
                return Err(ExpirationError::InvalidPath(
                    format!("{path}/{s}").chars().take(256).collect(),
                ));
            }
            None => coffer_crypto::random_alphanumeric(LEASE_RANDOM_LEN)
                .map_err(|_| ExpirationError::Random)?,
        };
        let lease_id = format!("{path}/{suffix}");
        let mut ttl = new.ttl;
        let max_expire_time = if new.max_ttl.is_zero() {
            None
        } else {
            ttl = ttl.min(new.max_ttl);
            Some(time_after(now, new.max_ttl))
        };
        let expire_time = match (new.kind, ttl.is_zero()) {
            (LeaseKind::Token, true) => None,
            _ => Some(time_after(now, ttl)),
        };
        Ok(LeaseEntry {
            lease_id,
            path: path.to_owned(),
            kind: new.kind,
            mount_accessor: new.mount_accessor,
            internal_data: new.internal_data,
            token_ref: new.token_ref,
            issue_time: now,
            expire_time,
            last_renewal_time: None,
            ttl,
            renewable: new.renewable,
            max_expire_time,
            revoke_attempts: 0,
            next_attempt: None,
            last_error: None,
            irrevocable: false,
        })
    }

    /// Moves a lease's expiry to `ttl` from now without asking its backend:
    /// for token leases, whose token the token store has just renewed. A
    /// zero `ttl` on a token lease means it never expires. Unknown leases
    /// are ignored. The lease's max TTL still caps the result.
    pub async fn set_expiry(&self, lease_id: &str, ttl: Duration) -> Result<()> {
        let _lock = self.locks.lock(lease_id).await;
        let Some(old) = self.lookup(lease_id).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let mut new = old.clone();
        let mut expire =
            (!(ttl.is_zero() && old.kind == LeaseKind::Token)).then(|| time_after(now, ttl));
        if let (Some(e), Some(cap)) = (expire, old.max_expire_time) {
            expire = Some(e.min(cap));
        }
        new.expire_time = expire;
        new.ttl = expire
            .and_then(|e| e.duration_since(now).ok())
            .unwrap_or(Duration::ZERO);
        new.last_renewal_time = Some(now);
        self.commit(Some(&old), Some(&new)).await
    }

    /// The lease `lease_id`, or `None` (also for ids that cannot exist).
    pub async fn lookup(&self, lease_id: &str) -> Result<Option<LeaseEntry>> {
        let Some(key) = keys::id_key(lease_id) else {
            return Ok(None);
        };
        match self.view.get(&key).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| ExpirationError::Corrupt(lease_id.to_owned())),
        }
    }

    /// The immediate children of `prefix` among lease ids, as
    /// `LIST sys/leases/lookup/:prefix` shows them: sub-paths with a
    /// trailing `/` and the random parts of lease ids. Empty for an invalid
    /// prefix.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut prefix = prefix.to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        match keys::id_prefix(&prefix) {
            Some(p) => Ok(self.view.list(&p).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Replaces `old` with `new` atomically: the record and every index
    /// entry that changes. `new == None` deletes the lease.
    pub(crate) async fn commit(
        &self,
        old: Option<&LeaseEntry>,
        new: Option<&LeaseEntry>,
    ) -> Result<()> {
        let ops = write_ops(old, new)?;
        if !ops.is_empty() {
            self.view.write_batch(ops).await?;
        }
        Ok(())
    }
}

/// The writes that turn `old` into `new` (either may be absent).
fn write_ops(old: Option<&LeaseEntry>, new: Option<&LeaseEntry>) -> Result<Vec<WriteOp>> {
    let old_index: BTreeSet<Key> = match old {
        Some(e) => keys::index_keys(e)?.into_iter().collect(),
        None => BTreeSet::new(),
    };
    let new_index: BTreeSet<Key> = match new {
        Some(e) => keys::index_keys(e)?.into_iter().collect(),
        None => BTreeSet::new(),
    };
    let mut ops = Vec::with_capacity(4);
    for gone in old_index.difference(&new_index) {
        ops.push(WriteOp::Delete(gone.clone()));
    }
    for added in new_index.difference(&old_index) {
        ops.push(WriteOp::Put(added.clone(), Vec::new()));
    }
    match (old, new) {
        (_, Some(e)) => {
            let key = record_key(e)?;
            let bytes =
                serde_json::to_vec(e).map_err(|_| ExpirationError::Encode(e.lease_id.clone()))?;
            ops.push(WriteOp::Put(key, bytes));
        }
        (Some(e), None) => ops.push(WriteOp::Delete(record_key(e)?)),
        (None, None) => {}
    }
    Ok(ops)
}

fn record_key(entry: &LeaseEntry) -> Result<Key> {
    keys::id_key(&entry.lease_id)
        .ok_or_else(|| ExpirationError::InvalidPath(entry.lease_id.clone()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::test_support::{Harness, secret};

    fn assert_send<T: Send>(_: T) {}

    #[tokio::test]
    async fn the_manager_and_its_futures_can_cross_threads() {
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<ExpirationManager>();
        let h = Harness::new().await;
        let m = &h.mgr;
        let req = coffer_types::Request::default();
        assert_send(m.register(secret("a/b", 1)));
        assert_send(m.register_batch(Vec::new()));
        assert_send(m.lookup("a"));
        assert_send(m.list("a"));
        assert_send(m.renew("a", None));
        assert_send(m.revoke("a"));
        assert_send(m.revoke_lazy("a"));
        assert_send(m.revoke_prefix("a", true));
        assert_send(m.revoke_prefix_lazy("a"));
        assert_send(m.revoke_by_token("a"));
        assert_send(m.tick());
        assert_send(m.tidy());
        assert_send(m.count(crate::LeaseCountType::All));
        assert_send(m.irrevocable_counts());
        assert_send(m.irrevocable_leases(None));
        assert_send(crate::sys::call_sys(m, "leases/tidy", &req));
    }

    #[tokio::test]
    async fn register_then_lookup() {
        let h = Harness::new().await;
        let lease = h
            .mgr
            .register(secret("database/creds/web", 3600))
            .await
            .unwrap();
        let (path, random) = lease.lease_id.rsplit_once('/').unwrap();
        assert_eq!(path, "database/creds/web");
        assert_eq!(random.len(), 24);
        assert!(random.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(lease.expire_time, Some(h.now() + Duration::from_secs(3600)));
        let found = h.mgr.lookup(&lease.lease_id).await.unwrap().unwrap();
        assert_eq!(found, lease);
        assert_eq!(found.internal_data["username"], "v-web-1");
        assert!(
            h.mgr
                .lookup("database/creds/web/nope")
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.mgr.lookup("../../etc").await.unwrap().is_none());
        assert!(h.mgr.lookup("").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn ttl_is_capped_by_max_ttl_and_zero_ttl_tokens_never_expire() {
        let h = Harness::new().await;
        let mut new = secret("db/creds/a", 7200);
        new.max_ttl = Duration::from_secs(600);
        let lease = h.mgr.register(new).await.unwrap();
        assert_eq!(lease.ttl, Duration::from_secs(600));
        assert_eq!(
            lease.max_expire_time,
            Some(h.now() + Duration::from_secs(600))
        );

        let mut root = secret("auth/token/create", 0);
        root.kind = LeaseKind::Token;
        let root = h.mgr.register(root).await.unwrap();
        assert_eq!(root.expire_time, None);
        assert_eq!(root.due(), None);
    }

    #[tokio::test]
    async fn invalid_paths_are_refused() {
        let h = Harness::new().await;
        for bad in ["", "/", "a//b", "a/../b"] {
            let err = h.mgr.register(secret(bad, 60)).await.unwrap_err();
            assert!(matches!(err, ExpirationError::InvalidPath(_)), "{bad:?}");
        }
        let ok = h.mgr.register(secret("/db/creds/x/", 60)).await.unwrap();
        assert!(ok.lease_id.starts_with("db/creds/x/"));
    }

    #[tokio::test]
    async fn list_shows_immediate_children() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.mgr.register(secret("db/creds/b", 60)).await.unwrap();
        h.mgr.register(secret("aws/creds/x", 60)).await.unwrap();
        assert_eq!(h.mgr.list("").await.unwrap(), ["aws/", "db/"]);
        assert_eq!(h.mgr.list("db").await.unwrap(), ["creds/"]);
        assert_eq!(h.mgr.list("db/creds/").await.unwrap(), ["a/", "b/"]);
        let random = a.lease_id.rsplit_once('/').unwrap().1;
        assert_eq!(h.mgr.list("db/creds/a/").await.unwrap(), [random]);
        assert!(h.mgr.list("nothing/").await.unwrap().is_empty());
        assert!(h.mgr.list("../").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn batch_registration_writes_records_and_indexes() {
        let h = Harness::new().await;
        let leases = h
            .mgr
            .register_batch((0..5).map(|_| secret("db/creds/bulk", 60)).collect())
            .await
            .unwrap();
        assert_eq!(leases.len(), 5);
        assert_eq!(h.mgr.list("db/creds/bulk/").await.unwrap().len(), 5);
        h.clock.advance(Duration::from_secs(61));
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 5);
        assert_eq!(h.handler.revoked().len(), 5);
    }

    #[tokio::test]
    async fn survives_a_new_manager_over_the_same_storage() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let again = h.reload().await;
        assert_eq!(
            again.lookup(&lease.lease_id).await.unwrap(),
            Some(lease.clone())
        );
        h.clock.advance(Duration::from_secs(60));
        assert_eq!(again.tick().await.unwrap().revoked, 1);
        assert_eq!(h.handler.revoked(), [lease.lease_id]);
    }
}

#[cfg(test)]
mod fixed_id_tests {
    use std::time::Duration;

    use crate::test_support::Harness;
    use crate::{LeaseKind, NewLease};

    #[tokio::test]
    async fn token_leases_keep_a_fixed_id_and_move_their_expiry() {
        let h = Harness::new().await;
        let lease = h
            .mgr
            .register(NewLease {
                path: "auth/token/create".into(),
                kind: LeaseKind::Token,
                ttl: Duration::from_secs(60),
                max_ttl: Duration::from_secs(600),
                token_ref: "abc".into(),
                id_suffix: Some("abc".into()),
                ..NewLease::default()
            })
            .await
            .unwrap();
        assert_eq!(lease.lease_id, "auth/token/create/abc");
        h.clock.advance(Duration::from_secs(50));
        h.mgr
            .set_expiry(&lease.lease_id, Duration::from_secs(120))
            .await
            .unwrap();
        h.clock.advance(Duration::from_secs(20));
        h.mgr.tick().await.unwrap();
        assert!(
            h.mgr.lookup(&lease.lease_id).await.unwrap().is_some(),
            "moved expiry is honoured"
        );
        h.mgr
            .set_expiry(&lease.lease_id, Duration::from_secs(10_000))
            .await
            .unwrap();
        let capped = h.mgr.lookup(&lease.lease_id).await.unwrap().unwrap();
        assert!(
            capped.expire_time <= capped.max_expire_time,
            "max TTL still caps"
        );
        h.mgr
            .set_expiry("auth/token/create/unknown", Duration::from_secs(1))
            .await
            .unwrap();
        let bad = h
            .mgr
            .register(NewLease {
                path: "auth/token/create".into(),
                id_suffix: Some("a/b".into()),
                ..NewLease::default()
            })
            .await;
        assert!(bad.is_err());
    }
}
