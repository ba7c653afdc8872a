//! The in-memory backend's index: one sorted map per folder, found by hash.
//!
//! A single sorted map of full keys is slow for Coffer's keys: they share
//! long prefixes (`sys/expire/exp/<second>/auth%2Fapprole%2Flogin%2F...`),
//! so every comparison on the way down reads two strings on the heap up to
//! where they differ, and with millions of keys each read is a cache miss.
//! Here a key is split at its last `/`: the folder (`a/b/`) is found in a
//! hash map, and the name (`c`) in that folder's sorted map. Names of one
//! folder differ early, and [`Name`] keeps their first 8 bytes in the tree
//! node itself, so most comparisons read no string at all.
//!
//! Each folder also keeps its sub-folders (`x/`, in the same order as
//! listed), so a listing merges two sorted sequences and never visits what
//! lies below a child.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

/// A name inside one folder: a leaf (`c`) or a sub-folder (`x/`), ordered
/// as the strings are, with the first 8 bytes held inline.
#[derive(Clone, PartialEq, Eq)]
struct Name {
    /// The first 8 bytes, big-endian, zero-padded: comparing two heads
    /// orders the names whenever the heads differ.
    head: u64,
    full: Box<str>,
}

impl Name {
    fn new(name: &str) -> Self {
        let mut head = [0u8; 8];
        let len = name.len().min(8);
        head[..len].copy_from_slice(&name.as_bytes()[..len]);
        Self {
            head: u64::from_be_bytes(head),
            full: name.into(),
        }
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        // Where the heads differ, they differ at the first differing byte of
        // the names, or one name ended (padded with 0) where the other goes
        // on with a byte > 0, which makes it the larger one as a string too.
        // Equal heads leave it to the strings.
        self.head
            .cmp(&other.head)
            .then_with(|| self.full.cmp(&other.full))
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One folder: its leaves with their values, and its non-empty sub-folders
/// (each named with its trailing `/`).
#[derive(Default)]
struct Folder {
    leaves: BTreeMap<Name, Vec<u8>>,
    folders: BTreeSet<Name>,
}

impl Folder {
    fn is_empty(&self) -> bool {
        self.leaves.is_empty() && self.folders.is_empty()
    }
}

/// Splits a key or a folder path (without its trailing `/`) into its parent
/// folder (`""` or ending in `/`) and its last segment.
fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    }
}

/// Splits a folder path `a/b/` into its parent (`a/`) and its name as its
/// parent lists it (`b/`). `None` for the root `""`.
fn split_folder(folder: &str) -> Option<(&str, &str)> {
    let inner = folder.strip_suffix('/')?;
    let (parent, _) = split(inner);
    Some((parent, &folder[parent.len()..]))
}

/// Every key of the store, by folder. Keys are valid [`crate::Key`]s and
/// prefixes valid [`crate::Prefix`]es (no empty segment).
#[derive(Default)]
pub(crate) struct Tree {
    /// Folder path (`""` for the root, else ending in `/`) to folder; only
    /// folders with something below them are present (and the root).
    folders: HashMap<Box<str>, Folder>,
}

impl Tree {
    /// The value at `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Vec<u8>> {
        let (folder, leaf) = split(key);
        self.folders.get(folder)?.leaves.get(&Name::new(leaf))
    }

    /// Stores `value` at `key`.
    pub(crate) fn put(&mut self, key: &str, value: Vec<u8>) {
        let (folder, leaf) = split(key);
        if let Some(f) = self.folders.get_mut(folder) {
            f.leaves.insert(Name::new(leaf), value);
            return;
        }
        let mut new = Folder::default();
        new.leaves.insert(Name::new(leaf), value);
        self.folders.insert(folder.into(), new);
        self.link(folder);
    }

    /// Removes `key`, if present.
    pub(crate) fn delete(&mut self, key: &str) {
        let (folder, leaf) = split(key);
        let Some(f) = self.folders.get_mut(folder) else {
            return;
        };
        if f.leaves.remove(&Name::new(leaf)).is_some() && f.is_empty() {
            self.unlink(folder);
        }
    }

    /// Records the new, non-empty folder `folder` in its parent, creating
    /// the parents that did not exist yet.
    fn link(&mut self, folder: &str) {
        let mut child = folder;
        while let Some((parent, name)) = split_folder(child) {
            if let Some(p) = self.folders.get_mut(parent) {
                p.folders.insert(Name::new(name));
                return;
            }
            let mut new = Folder::default();
            new.folders.insert(Name::new(name));
            self.folders.insert(parent.into(), new);
            child = parent;
        }
    }

    /// Removes the now empty folder `folder`, and its parents as they empty
    /// in turn (the root stays).
    fn unlink(&mut self, folder: &str) {
        let mut child = folder;
        while let Some((parent, name)) = split_folder(child) {
            self.folders.remove(child);
            let Some(p) = self.folders.get_mut(parent) else {
                return;
            };
            p.folders.remove(&Name::new(name));
            if !p.is_empty() {
                return;
            }
            child = parent;
        }
    }

    /// The children of `prefix` (`""` or ending in `/`) that sort after
    /// `after`, at most `limit`, in order: leaves as they are, folders with
    /// their trailing `/`.
    pub(crate) fn children(&self, prefix: &str, after: Option<&str>, limit: usize) -> Vec<String> {
        let Some(folder) = self.folders.get(prefix) else {
            return Vec::new();
        };
        let start = after.map_or(Bound::Unbounded, |a| Bound::Excluded(Name::new(a)));
        let mut leaves = folder
            .leaves
            .range((start.clone(), Bound::Unbounded))
            .map(|(name, _)| &*name.full)
            .peekable();
        let mut folders = folder
            .folders
            .range((start, Bound::Unbounded))
            .map(|name| &*name.full)
            .peekable();
        let mut out = Vec::new();
        while out.len() < limit {
            // A leaf and a folder never share a name (a leaf has no `/`).
            let next = match (leaves.peek(), folders.peek()) {
                (Some(l), Some(f)) if l < f => leaves.next(),
                (Some(_), Some(_)) | (None, Some(_)) => folders.next(),
                (Some(_), None) => leaves.next(),
                (None, None) => None,
            };
            match next {
                Some(name) => out.push(name.to_owned()),
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet as Model;

    /// What the store must answer, computed from a plain set of keys with
    /// the range-scan listing the ordered backends use.
    fn model_children(
        model: &BTreeMap<String, Vec<u8>>,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Vec<String> {
        crate::list_children::<()>(prefix, after, limit, |lo, hi, visit| {
            for (k, _) in model.range::<str, _>((lo, hi)) {
                if !visit(k) {
                    break;
                }
            }
            Ok(())
        })
        .unwrap()
    }

    fn segment() -> impl Strategy<Value = String> {
        // Few distinct characters around '/' so that names collide, nest,
        // and sort next to folder names ("a" < "a!" < "a-" < "a/" < "a0").
        proptest::string::string_regex("[a!0-]{1,3}|[a-c]{7,10}").unwrap()
    }

    fn key() -> impl Strategy<Value = String> {
        proptest::collection::vec(segment(), 1..4).prop_map(|s| s.join("/"))
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(String, u8),
        /// Deletes a random key, absent as often as not.
        Delete(String),
        /// Deletes the n-th key put so far (modulo), so folders do empty.
        DeletePut(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (key(), any::<u8>()).prop_map(|(k, v)| Op::Put(k, v)),
            1 => key().prop_map(Op::Delete),
            2 => any::<usize>().prop_map(Op::DeletePut),
        ]
    }

    proptest! {
        #[test]
        fn names_order_as_their_strings(a in "[\\x00-\\x7f]{0,12}", b in "[\\x00-\\x7f]{0,12}") {
            prop_assert_eq!(Name::new(&a).cmp(&Name::new(&b)), a.cmp(&b));
        }

        #[test]
        fn answers_as_a_sorted_map_does(ops in proptest::collection::vec(op(), 1..120),
                                        after in proptest::option::of(segment()),
                                        limit in 1usize..6) {
            let mut tree = Tree::default();
            let mut model = BTreeMap::new();
            let mut touched: Vec<String> = Vec::new();
            for op in &ops {
                match op {
                    Op::Put(k, v) => {
                        tree.put(k, vec![*v]);
                        model.insert(k.clone(), vec![*v]);
                        touched.push(k.clone());
                    }
                    Op::Delete(k) => {
                        tree.delete(k);
                        model.remove(k);
                        touched.push(k.clone());
                    }
                    Op::DeletePut(n) if !touched.is_empty() => {
                        let k = touched[n % touched.len()].clone();
                        tree.delete(&k);
                        model.remove(&k);
                    }
                    Op::DeletePut(_) => {}
                }
            }
            // Every folder any key could be in, plus ones that do not exist.
            let mut prefixes: Model<String> = [String::new(), "zz/".to_owned()].into();
            for k in &touched {
                let mut at = 0;
                while let Some(i) = k[at..].find('/') {
                    at += i + 1;
                    prefixes.insert(k[..at].to_owned());
                }
            }
            for prefix in &prefixes {
                prop_assert_eq!(
                    tree.children(prefix, None, usize::MAX),
                    model_children(&model, prefix, None, usize::MAX),
                    "list {:?}", prefix
                );
                prop_assert_eq!(
                    tree.children(prefix, after.as_deref(), limit),
                    model_children(&model, prefix, after.as_deref(), limit),
                    "page of {:?} after {:?}", prefix, after
                );
            }
            for k in &touched {
                prop_assert_eq!(tree.get(k), model.get(k));
            }
            // Emptied folders are gone: only the root and folders with
            // something below them remain.
            for folder in tree.folders.keys() {
                prop_assert!(folder.is_empty() || model.keys().any(|k| k.starts_with(&**folder)),
                    "folder {:?} outlived its keys", folder);
            }
        }
    }

    #[test]
    fn folders_sort_among_leaves_by_their_listed_names() {
        let mut tree = Tree::default();
        for k in ["p/a", "p/a!", "p/a-b", "p/a/x", "p/a!/y", "p/a0", "p/b/c"] {
            tree.put(k, Vec::new());
        }
        assert_eq!(
            tree.children("p/", None, usize::MAX),
            ["a", "a!", "a!/", "a-b", "a/", "a0", "b/"]
        );
        assert_eq!(tree.children("p/", Some("a-b"), 2), ["a/", "a0"]);
        assert_eq!(tree.children("", None, 10), ["p/"]);
        tree.delete("p/a/x");
        tree.delete("p/b/c");
        assert_eq!(
            tree.children("p/", None, usize::MAX),
            ["a", "a!", "a!/", "a-b", "a0"]
        );
        assert!(!tree.folders.contains_key("p/a/"));
    }
}
