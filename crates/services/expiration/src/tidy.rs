//! Tidy (revoke leases whose token is gone, repair the indexes) and counts.
//! Both walk storage a page at a time: O(n) work, bounded memory.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use coffer_storage::{Key, Storage, StorageError};

use crate::entry::{LeaseEntry, LeaseKind};
use crate::keys;
use crate::walk::Walk;
use crate::{ExpirationManager, Result};

/// What [`ExpirationManager::count`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseCountType {
    /// Every lease.
    All,
    /// Leases whose revocation failed for good.
    Irrevocable,
}

/// What one [`ExpirationManager::tidy`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TidyReport {
    /// Leases looked at.
    pub leases: u64,
    /// Leases revoked because their token no longer exists.
    pub revoked: u64,
    /// Revocations that failed (the lease is kept and retried).
    pub revoke_failed: u64,
    /// Missing index entries written back.
    pub indexes_restored: u64,
    /// Index entries removed because no lease (or another one) owns them.
    pub indexes_removed: u64,
}

/// One irrevocable lease, as `GET sys/leases?type=irrevocable` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IrrevocableLease {
    /// The lease id.
    pub lease_id: String,
    /// The issuing mount's accessor.
    pub mount_id: String,
    /// Why its revocation failed.
    pub error: String,
    /// When it expired (for ordering).
    pub expire_time: Option<SystemTime>,
}

/// The mount accessor shown for leases that do not record one (Vault's text).
const UNKNOWN_MOUNT: &str = "mount-accessor-not-found";

impl ExpirationManager {
    /// Counts leases of `kind` (walks storage: use sparingly on large stores).
    pub async fn count(&self, kind: LeaseCountType) -> Result<u64> {
        let base = match kind {
            LeaseCountType::All => keys::prefix(keys::ID)?,
            LeaseCountType::Irrevocable => keys::prefix(keys::IRR)?,
        };
        let mut walk = Walk::new(base);
        let mut n = 0u64;
        while let Some(batch) = walk.next_batch(&self.view).await? {
            n += batch.len() as u64;
        }
        Ok(n)
    }

    /// Irrevocable leases: the total and the count per mount accessor.
    pub async fn irrevocable_counts(&self) -> Result<(u64, BTreeMap<String, u64>)> {
        let mut total = 0u64;
        let mut per_mount: BTreeMap<String, u64> = BTreeMap::new();
        let mut walk = Walk::new(keys::prefix(keys::IRR)?);
        while let Some(batch) = walk.next_batch(&self.view).await? {
            for entry in self.irrevocable_entries(batch).await? {
                total += 1;
                *per_mount.entry(mount_of(&entry)).or_default() += 1;
            }
        }
        Ok((total, per_mount))
    }

    /// Up to `limit` irrevocable leases (all with `None`), ordered by expiry
    /// then id, and whether more exist.
    pub async fn irrevocable_leases(
        &self,
        limit: Option<usize>,
    ) -> Result<(Vec<IrrevocableLease>, bool)> {
        let mut found = Vec::new();
        let mut truncated = false;
        let mut walk = Walk::new(keys::prefix(keys::IRR)?);
        'walk: while let Some(batch) = walk.next_batch(&self.view).await? {
            for entry in self.irrevocable_entries(batch).await? {
                if limit.is_some_and(|l| found.len() >= l) {
                    truncated = true;
                    break 'walk;
                }
                found.push(IrrevocableLease {
                    mount_id: mount_of(&entry),
                    error: entry.last_error.clone().unwrap_or_else(|| "unknown".into()),
                    expire_time: entry.expire_time,
                    lease_id: entry.lease_id,
                });
            }
        }
        found.sort_by(|a, b| {
            a.expire_time
                .cmp(&b.expire_time)
                .then_with(|| a.lease_id.cmp(&b.lease_id))
        });
        Ok((found, truncated))
    }

    /// The irrevocable leases named by a batch of `irr/` entries.
    async fn irrevocable_entries(&self, batch: Vec<String>) -> Result<Vec<LeaseEntry>> {
        let mut out = Vec::with_capacity(batch.len());
        for escaped in batch {
            let Some(lease_id) = keys::unescape(&escaped) else {
                continue;
            };
            if let Some(entry) = self.lookup(&lease_id).await?
                && entry.irrevocable
            {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Vault's lease tidy: revokes secret leases whose creating token no
    /// longer exists (as the handler's `token_exists` says), restores index
    /// entries a lease should have, and removes index entries no lease owns.
    /// One tidy runs at a time; a second call while one runs returns at once
    /// with an empty report.
    pub async fn tidy(&self) -> Result<TidyReport> {
        if self.tidying.swap(true, Ordering::AcqRel) {
            tracing::warn!("tidy operation on leases is already in progress");
            return Ok(TidyReport::default());
        }
        let result = self.tidy_inner().await;
        self.tidying.store(false, Ordering::Release);
        let report = result?;
        tracing::info!(
            leases = report.leases,
            revoked = report.revoked,
            revoke_failed = report.revoke_failed,
            indexes_restored = report.indexes_restored,
            indexes_removed = report.indexes_removed,
            "finished tidying leases"
        );
        Ok(report)
    }

    async fn tidy_inner(&self) -> Result<TidyReport> {
        let mut report = TidyReport::default();
        let mut walk = Walk::new(keys::prefix(keys::ID)?);
        while let Some(batch) = walk.next_batch(&self.view).await? {
            for lease_id in batch {
                self.tidy_lease(&lease_id, &mut report).await?;
            }
        }
        self.tidy_index(keys::EXP, &mut report, last_segment, keys::exp_key)
            .await?;
        self.tidy_index(keys::TOKEN, &mut report, last_segment, keys::token_key)
            .await?;
        self.tidy_index(keys::IRR, &mut report, whole, keys::irr_key)
            .await?;
        Ok(report)
    }

    async fn tidy_lease(&self, lease_id: &str, report: &mut TidyReport) -> Result<()> {
        let _lock = self.locks.lock(lease_id).await;
        let entry = match self.lookup(lease_id).await {
            Ok(Some(entry)) => entry,
            Ok(None) => return Ok(()),
            Err(err) => {
                tracing::error!(lease_id = %lease_id, error = %err, "tidy skipped an unreadable lease");
                return Ok(());
            }
        };
        report.leases += 1;
        if entry.kind == LeaseKind::Secret {
            let token_gone = entry.token_ref.is_empty()
                || !self
                    .handler
                    .token_exists(&entry.token_ref)
                    .await
                    .unwrap_or(true);
            if token_gone {
                tracing::info!(lease_id = %lease_id, "revoking lease whose token is gone");
                match self.revoke_locked(entry, false).await {
                    Ok(_) => report.revoked += 1,
                    Err(_) => report.revoke_failed += 1,
                }
                return Ok(());
            }
        }
        for key in keys::index_keys(&entry)? {
            if self.view.get(&key).await?.is_none() {
                self.view.put(&key, Vec::new()).await?;
                report.indexes_restored += 1;
            }
        }
        Ok(())
    }

    /// Removes every entry of the index under `index` whose lease does not
    /// exist or would not put its index entry at that key.
    async fn tidy_index(
        &self,
        index: &str,
        report: &mut TidyReport,
        escaped_of: fn(&str) -> Option<&str>,
        expected: IndexKeyOf,
    ) -> Result<()> {
        let base = keys::prefix(index)?;
        let mut walk = Walk::new(base.clone());
        while let Some(batch) = walk.next_batch(&self.view).await? {
            for rel in batch {
                let key = base.join(&rel)?;
                let owned = match escaped_of(&rel).and_then(keys::unescape) {
                    None => false,
                    Some(lease_id) => {
                        let _lock = self.locks.lock(&lease_id).await;
                        match self.lookup(&lease_id).await {
                            Ok(Some(entry)) => expected(&entry)?.as_ref() == Some(&key),
                            Ok(None) => false,
                            // Unreadable record: leave its indexes alone.
                            Err(_) => true,
                        }
                    }
                };
                if !owned {
                    self.view.delete(&key).await?;
                    report.indexes_removed += 1;
                }
            }
        }
        Ok(())
    }
}

/// The index key a lease should have in one index.
type IndexKeyOf = fn(&LeaseEntry) -> std::result::Result<Option<Key>, StorageError>;

/// The escaped lease id of a two-level index entry (`<folder>/<hex id>`).
fn last_segment(rel: &str) -> Option<&str> {
    rel.rsplit('/').next()
}

/// The escaped lease id of a one-level index entry.
fn whole(rel: &str) -> Option<&str> {
    Some(rel)
}

fn mount_of(entry: &LeaseEntry) -> String {
    if entry.mount_accessor.is_empty() {
        UNKNOWN_MOUNT.to_owned()
    } else {
        entry.mount_accessor.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use coffer_types::Error;

    use super::*;
    use crate::test_support::{Harness, secret};

    #[tokio::test]
    async fn counts_all_and_irrevocable() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.mgr.register(secret("db/creds/b", 60)).await.unwrap();
        let mut other = secret("aws/creds/c", 60);
        other.mount_accessor = String::new();
        let c = h.mgr.register(other).await.unwrap();
        assert_eq!(h.mgr.count(LeaseCountType::All).await.unwrap(), 3);
        assert_eq!(h.mgr.count(LeaseCountType::Irrevocable).await.unwrap(), 0);
        h.handler.fail_with(Some(Error::invalid("gone")));
        assert!(h.mgr.revoke(&a.lease_id).await.is_err());
        assert!(h.mgr.revoke(&c.lease_id).await.is_err());
        assert_eq!(h.mgr.count(LeaseCountType::Irrevocable).await.unwrap(), 2);
        let (total, per_mount) = h.mgr.irrevocable_counts().await.unwrap();
        assert_eq!(total, 2);
        assert_eq!(per_mount["database_1234"], 1);
        assert_eq!(per_mount["mount-accessor-not-found"], 1);
        let (leases, truncated) = h.mgr.irrevocable_leases(Some(1)).await.unwrap();
        assert_eq!(leases.len(), 1);
        assert!(truncated);
        let (leases, truncated) = h.mgr.irrevocable_leases(None).await.unwrap();
        assert_eq!(leases.len(), 2);
        assert!(!truncated);
        assert!(leases.iter().all(|l| l.error == "gone"));
    }

    #[tokio::test]
    async fn tidy_revokes_leases_of_vanished_tokens_and_repairs_indexes() {
        let h = Harness::new().await;
        let kept = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let mut orphan = secret("db/creds/b", 60);
        orphan.token_ref = "dead".into();
        let orphan = h.mgr.register(orphan).await.unwrap();
        h.handler.forget_token("dead");

        // Lose an index entry and plant a dangling one.
        let exp_key = keys::exp_key(&kept).unwrap().unwrap();
        h.mgr.view.delete(&exp_key).await.unwrap();
        let stray = keys::prefix(keys::TOKEN)
            .unwrap()
            .join(&format!(
                "{}/{}",
                keys::escape("tok"),
                keys::escape("db/creds/x/y")
            ))
            .unwrap();
        h.mgr.view.put(&stray, Vec::new()).await.unwrap();

        let report = h.mgr.tidy().await.unwrap();
        assert_eq!(report.leases, 2);
        assert_eq!(report.revoked, 1);
        assert_eq!(report.indexes_restored, 1);
        assert_eq!(report.indexes_removed, 1);
        assert_eq!(h.handler.revoked(), [orphan.lease_id]);
        assert!(h.mgr.view.get(&stray).await.unwrap().is_none());
        // The restored index makes expiry work again.
        h.clock.advance(Duration::from_secs(60));
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 1);
        assert_eq!(h.keys().await, ["meta/format"]);
    }
}
