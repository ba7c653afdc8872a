//! Revocation: whole trees (iteratively, breadth-first), or one token whose
//! children become orphans. Every revoked token goes through the
//! [`RevocationHook`](crate::RevocationHook) before its entry is deleted.

use std::collections::HashSet;

use coffer_storage::{Storage, WriteOp};

use crate::store::{accessor_key, id_key, parent_key, parent_prefix};
use crate::{Result, TokenEntry, TokenError, TokenStore};

impl TokenStore {
    /// Revokes the token and all its descendants. The whole tree stops
    /// authenticating as soon as the top token is marked; descendants are then
    /// revoked leaves first. Revoking an unknown token is not an error.
    /// Batch tokens cannot be revoked ([`TokenError::Batch`]): they die at
    /// their TTL or with their parent.
    pub async fn revoke_tree(&self, entry: &TokenEntry) -> Result<()> {
        if entry.is_batch() {
            return Err(TokenError::Batch("batch tokens cannot be revoked"));
        }
        let _guard = self.lock.lock().await;
        self.revoke_tree_locked(&entry.id_hash).await
    }

    /// Revokes only this token; its children become orphans (they keep
    /// working and are no longer revoked with it).
    pub async fn revoke_orphan(&self, entry: &TokenEntry) -> Result<()> {
        if entry.is_batch() {
            return Err(TokenError::Batch("batch tokens cannot be revoked"));
        }
        let _guard = self.lock.lock().await;
        let hash = entry.id_hash.as_str();
        let Some(mut top) = self.load_raw(hash).await? else {
            return Ok(());
        };
        if !top.revocation_pending {
            top.revocation_pending = true;
            self.save(&top).await?;
        }
        let prefix = parent_prefix(hash)?;
        for child in self.view.list(&prefix).await? {
            let child = child.trim_end_matches('/');
            let mut ops = vec![WriteOp::Delete(parent_key(hash, child)?)];
            if let Some(mut child_entry) = self.load_raw(child).await? {
                child_entry.parent = None;
                ops.push(WriteOp::Put(id_key(child)?, Self::encode(&child_entry)?));
            }
            self.commit(ops).await?;
        }
        self.revoke_one(hash).await
    }

    /// Revokes the subtree rooted at `root` (an id hash). The caller holds
    /// the write lock.
    pub(crate) async fn revoke_tree_locked(&self, root: &str) -> Result<()> {
        if let Some(mut top) = self.load_raw(root).await?
            && !top.revocation_pending
        {
            top.revocation_pending = true;
            self.save(&top).await?;
        }
        let mut order = vec![root.to_owned()];
        let mut seen: HashSet<String> = HashSet::from([root.to_owned()]);
        let mut next = 0;
        while next < order.len() {
            let prefix = parent_prefix(&order[next])?;
            for child in self.view.list(&prefix).await? {
                let child = child.trim_end_matches('/').to_owned();
                if seen.insert(child.clone()) {
                    order.push(child);
                }
            }
            next += 1;
        }
        for hash in order.iter().rev() {
            self.revoke_one(hash).await?;
        }
        Ok(())
    }

    /// Revokes one token: runs the hook, then deletes its entry and its
    /// accessor and parent index entries in one batch.
    pub(crate) async fn revoke_one(&self, hash: &str) -> Result<()> {
        let mut ops = vec![WriteOp::Delete(id_key(hash)?)];
        if let Some(entry) = self.load_raw(hash).await? {
            self.call_hook(&entry).await?;
            let accessor_hash = self.salt.accessor_id(&self.view, &entry.accessor).await?;
            ops.push(WriteOp::Delete(accessor_key(&accessor_hash)?));
            if let Some(parent) = &entry.parent {
                ops.push(WriteOp::Delete(parent_key(parent, hash)?));
            }
        }
        for child in self.view.list(&parent_prefix(hash)?).await? {
            ops.push(WriteOp::Delete(parent_key(
                hash,
                child.trim_end_matches('/'),
            )?));
        }
        self.commit(ops).await?;
        Ok(())
    }

    async fn call_hook(&self, entry: &TokenEntry) -> Result<()> {
        let hook = self.hook.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(hook) = hook {
            hook.token_revoked(entry).await.map_err(TokenError::Hook)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::CreateParams;
    use crate::store::parent_prefix;
    use crate::store::tests::{Recorder, child_of, fixture};
    use coffer_storage::Storage;
    use coffer_types::Sensitive;

    #[tokio::test]
    async fn revoking_a_parent_revokes_the_whole_tree() {
        let f = fixture();
        let recorder = Arc::new(Recorder::default());
        f.store.set_revocation_hook(recorder.clone());
        let (root_token, root) = f.store.create(CreateParams::default()).await.unwrap();
        let (bystander, _) = f.store.create(CreateParams::default()).await.unwrap();
        // Depth 3 below the root, fan-out 3 at each level: 3 + 9 + 27 tokens.
        let mut level = vec![root.clone()];
        let mut tokens: Vec<Sensitive> = vec![root_token];
        for _ in 0..3 {
            let mut next = Vec::new();
            for parent in &level {
                for _ in 0..3 {
                    let (t, e) = f.store.create(child_of(parent)).await.unwrap();
                    tokens.push(t);
                    next.push(e);
                }
            }
            level = next;
        }
        assert_eq!(tokens.len(), 40);
        f.store.revoke_tree(&root).await.unwrap();
        for t in &tokens {
            assert!(f.store.lookup(t.expose()).await.unwrap().is_none());
        }
        assert_eq!(
            recorder.0.lock().unwrap().len(),
            40,
            "the hook saw every token"
        );
        assert!(f.store.lookup(bystander.expose()).await.unwrap().is_some());
        assert_eq!(
            f.store.list_accessors().await.unwrap().len(),
            1,
            "only the bystander is left"
        );
        let parents = coffer_storage::Prefix::new("parent/").unwrap();
        assert!(
            f.store.view.list(&parents).await.unwrap().is_empty(),
            "no index entries left"
        );
    }

    #[tokio::test]
    async fn revoke_orphan_keeps_children_alive_as_orphans() {
        let f = fixture();
        let (_, parent) = f.store.create(CreateParams::default()).await.unwrap();
        let (child_a, a) = f.store.create(child_of(&parent)).await.unwrap();
        let (child_b, _) = f.store.create(child_of(&parent)).await.unwrap();
        let (grandchild, _) = f.store.create(child_of(&a)).await.unwrap();
        f.store.revoke_orphan(&parent).await.unwrap();
        assert!(f.store.load_raw(&parent.id_hash).await.unwrap().is_none());
        for t in [&child_a, &child_b] {
            let e = f.store.lookup(t.expose()).await.unwrap().unwrap();
            assert!(e.is_orphan());
        }
        let g = f.store.lookup(grandchild.expose()).await.unwrap().unwrap();
        assert_eq!(
            g.parent.as_deref(),
            Some(a.id_hash.as_str()),
            "grandchildren keep their parent"
        );
        assert!(
            f.store
                .view
                .list(&parent_prefix(&parent.id_hash).unwrap())
                .await
                .unwrap()
                .is_empty()
        );
        // Revoking an orphaned child now only takes its own subtree.
        f.store.revoke_tree(&a).await.unwrap();
        assert!(f.store.lookup(grandchild.expose()).await.unwrap().is_none());
        assert!(f.store.lookup(child_b.expose()).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn failed_hook_leaves_the_tree_unusable_and_tidy_finishes_it() {
        struct Failing;
        #[async_trait::async_trait]
        impl crate::RevocationHook for Failing {
            async fn token_revoked(&self, _: &crate::TokenEntry) -> coffer_types::Result<()> {
                Err(coffer_types::Error::internal("cubbyhole unavailable"))
            }
        }
        let f = fixture();
        let (parent_token, parent) = f.store.create(CreateParams::default()).await.unwrap();
        let (child, _) = f.store.create(child_of(&parent)).await.unwrap();
        f.store.set_revocation_hook(Arc::new(Failing));
        assert!(f.store.revoke_tree(&parent).await.is_err());
        assert!(
            f.store
                .lookup(parent_token.expose())
                .await
                .unwrap()
                .is_none()
        );
        assert!(f.store.lookup(child.expose()).await.unwrap().is_none());
        let recorder = Arc::new(Recorder::default());
        f.store.set_revocation_hook(recorder.clone());
        let report = f.store.tidy().await.unwrap().unwrap();
        assert_eq!(report.revoked, 1);
        assert_eq!(recorder.0.lock().unwrap().len(), 2);
        assert!(f.store.list_accessors().await.unwrap().is_empty());
    }
}
