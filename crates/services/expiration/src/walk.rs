//! Visiting every key below a prefix a page at a time, so that walking a
//! million leases never holds more than a page per tree level in memory.

use coffer_storage::{Prefix, Storage, View};

use crate::Result;

/// Keys fetched per storage call.
pub(crate) const PAGE: usize = 256;

/// A depth-first walk over the leaf keys below a prefix, in key order.
/// Callers may delete the keys of a batch before asking for the next one:
/// the walk resumes after the last key it saw, not at an offset.
pub(crate) struct Walk {
    base: Prefix,
    /// Each frame: a folder (relative to `base`) and where to resume in it.
    stack: Vec<(String, Option<String>)>,
}

impl Walk {
    /// A walk over everything below `base`.
    pub(crate) fn new(base: Prefix) -> Self {
        Self {
            base,
            stack: vec![(String::new(), None)],
        }
    }

    /// The next batch of leaf keys (relative to the base, at most [`PAGE`]),
    /// or `None` when the walk is over.
    pub(crate) async fn next_batch(&mut self, view: &View) -> Result<Option<Vec<String>>> {
        while let Some((folder, after)) = self.stack.pop() {
            let here = self.base.join_prefix(&folder)?;
            let page = view.list_page(&here, after.as_deref(), PAGE).await?;
            let mut leaves = Vec::new();
            let mut descended = false;
            for child in &page {
                if child.ends_with('/') {
                    // Come back after this sub-folder once it is done.
                    self.stack.push((folder.clone(), Some(child.clone())));
                    self.stack.push((format!("{folder}{child}"), None));
                    descended = true;
                    break;
                }
                leaves.push(format!("{folder}{child}"));
            }
            if !descended
                && page.len() == PAGE
                && let Some(last) = page.last()
            {
                self.stack.push((folder, Some(last.clone())));
            }
            if !leaves.is_empty() {
                return Ok(Some(leaves));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use coffer_storage::{Key, MemoryStorage};

    use super::*;

    #[tokio::test]
    async fn visits_every_leaf_across_pages_and_levels_even_when_deleting() {
        let view = View::new(Arc::new(MemoryStorage::new()), Prefix::new("v/").unwrap());
        let mut expected = Vec::new();
        for i in 0..(PAGE + 10) {
            expected.push(format!("a/{i:04}"));
        }
        expected.push("a/z/deep/leaf".into());
        expected.push("b".into());
        expected.push("c/d".into());
        for k in &expected {
            view.put(&Key::new(k.clone()).unwrap(), vec![])
                .await
                .unwrap();
        }
        expected.sort();
        let mut seen = Vec::new();
        let mut walk = Walk::new(Prefix::root());
        while let Some(batch) = walk.next_batch(&view).await.unwrap() {
            assert!(batch.len() <= PAGE);
            for k in batch {
                view.delete(&Key::new(k.clone()).unwrap()).await.unwrap();
                seen.push(k);
            }
        }
        assert_eq!(seen, expected);
        assert!(view.list(&Prefix::root()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_empty_tree_ends_at_once() {
        let view = View::new(Arc::new(MemoryStorage::new()), Prefix::new("v/").unwrap());
        let mut walk = Walk::new(Prefix::new("x/").unwrap());
        assert!(walk.next_batch(&view).await.unwrap().is_none());
    }
}
