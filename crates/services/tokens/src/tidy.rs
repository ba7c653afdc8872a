//! `auth/token/tidy`: removes index entries left behind by interrupted
//! revocations and revokes tokens that expired without being looked up.

use std::sync::atomic::Ordering;

use coffer_storage::{Prefix, Storage, WriteOp};

use crate::store::{AccessorEntry, Check, id_key, parent_key};
use crate::{Result, TokenStore};

/// What a tidy run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TidyReport {
    /// Tokens (subtree roots) revoked because they were expired, orphaned by
    /// a vanished parent, or left marked for revocation.
    pub revoked: u64,
    /// Children of vanished parents turned into orphans.
    pub orphaned: u64,
    /// Parent-index entries removed.
    pub parent_entries_deleted: u64,
    /// Accessor-index entries removed.
    pub accessors_deleted: u64,
}

struct Running<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl TokenStore {
    /// Runs a tidy pass. `None` when another tidy is already running.
    pub async fn tidy(&self) -> Result<Option<TidyReport>> {
        if self.tidy_running.swap(true, Ordering::SeqCst) {
            return Ok(None);
        }
        let _running = Running(&self.tidy_running);
        let mut report = TidyReport::default();

        let parents = Prefix::new("parent/")?;
        for parent in self.view.list(&parents).await? {
            let parent = parent.trim_end_matches('/');
            let children = self
                .view
                .list(&parents.join_prefix(&format!("{parent}/"))?)
                .await?;
            let _guard = self.lock.lock().await;
            let parent_exists = self.load_raw(parent).await?.is_some();
            for child in children {
                let child = child.trim_end_matches('/');
                let mut ops = Vec::new();
                match self.load_raw(child).await? {
                    Some(_) if parent_exists => continue,
                    Some(mut orphan) => {
                        orphan.parent = None;
                        ops.push(WriteOp::Put(id_key(child)?, Self::encode(&orphan)?));
                        report.orphaned += 1;
                    }
                    None => {}
                }
                ops.push(WriteOp::Delete(parent_key(parent, child)?));
                report.parent_entries_deleted += 1;
                self.commit(ops).await?;
            }
        }

        let accessors = Prefix::new("accessor/")?;
        for name in self.view.list(&accessors).await? {
            let key = accessors.join(&name)?;
            let _guard = self.lock.lock().await;
            let dangling = match self.view.get(&key).await? {
                None => false,
                Some(bytes) => match serde_json::from_slice::<AccessorEntry>(&bytes) {
                    Ok(index) => self.load_raw(&index.id_hash).await?.is_none(),
                    Err(_) => true,
                },
            };
            if dangling {
                self.view.delete(&key).await?;
                report.accessors_deleted += 1;
            }
        }

        let ids = Prefix::new("id/")?;
        for hash in self.view.list(&ids).await? {
            let _guard = self.lock.lock().await;
            let pending = match self.load_raw(&hash).await? {
                None => continue,
                Some(entry) => entry.revocation_pending,
            };
            let root = match self.check(&hash, false).await? {
                Check::Revoke(root) => root,
                _ if pending => hash.clone(),
                _ => continue,
            };
            self.revoke_tree_locked(&root).await?;
            report.revoked += 1;
        }
        Ok(Some(report))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use coffer_storage::WriteOp;

    use crate::CreateParams;
    use crate::store::tests::{child_of, fixture};
    use crate::store::{accessor_key, id_key};

    #[tokio::test]
    async fn tidy_repairs_indexes_and_revokes_expired_tokens() {
        let f = fixture();
        let (_, parent) = f.store.create(CreateParams::default()).await.unwrap();
        let (child, _) = f.store.create(child_of(&parent)).await.unwrap();
        let (_, expiring) = f
            .store
            .create(CreateParams {
                ttl: Duration::from_secs(10),
                ..CreateParams::default()
            })
            .await
            .unwrap();
        let (_, dangling) = f.store.create(CreateParams::default()).await.unwrap();
        // Simulate interrupted revocations: the parent entry and the dangling
        // token's entry vanish, leaving their index entries behind.
        let acc = f
            .store
            .salt
            .accessor_id(&f.store.view, &parent.accessor)
            .await
            .unwrap();
        // (Through the store's own write path, as a crash would leave it
        // after a restart: with no entry cached.)
        f.store
            .commit(vec![
                WriteOp::Delete(id_key(&parent.id_hash).unwrap()),
                WriteOp::Delete(accessor_key(&acc).unwrap()),
                WriteOp::Delete(id_key(&dangling.id_hash).unwrap()),
            ])
            .await
            .unwrap();
        f.clock.advance(Duration::from_secs(10));
        let report = f.store.tidy().await.unwrap().unwrap();
        assert_eq!(report.orphaned, 1);
        assert_eq!(report.parent_entries_deleted, 1);
        assert_eq!(report.accessors_deleted, 1);
        assert_eq!(report.revoked, 1);
        let orphan = f.store.lookup(child.expose()).await.unwrap().unwrap();
        assert!(
            orphan.is_orphan(),
            "children of a vanished parent become orphans"
        );
        assert!(f.store.load_raw(&expiring.id_hash).await.unwrap().is_none());
        assert_eq!(
            f.store.list_accessors().await.unwrap(),
            vec![orphan.accessor]
        );
    }
}
