//! The in-memory backend's index: folders found by hash, and in each
//! folder its names found by hash.
//!
//! A sorted map of full keys is slow for Coffer's keys: they share long
//! prefixes (`sys/expire/exp/<second>/auth%2Fapprole%2Flogin%2F...`), so
//! every comparison on the way down reads two strings on the heap, and with
//! millions of keys each of those reads, and each tree node, is a cache
//! miss: inserting one login's four keys took a sixth of the server's time.
//! Here a key is split at its last `/`: the folder (`a/b/`) is found in a
//! hash map, and the name (`c`) in that folder's own hash map, keyed by the
//! name's hash, computed once ([`NameMap`]), so growing a folder of millions
//! rehashes no string.
//!
//! Each folder also keeps its sub-folders (`x/`, as listed). A listing
//! visits every name of the folder (never what lies below a child) and keeps
//! the smallest `limit` after `after`: O(names) per page, which suits a
//! development store whose big folders (tokens, leases) are listed only by
//! administrators and tidy jobs. Persistent backends list by range scan.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// Hashes a `u64` key to itself: the keys of a [`NameMap`] are already
/// SipHash values (under the tree's random keys).
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in rather than fail.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The names with one hash (almost always one).
enum Bucket<V> {
    One(Box<str>, V),
    Many(Vec<(Box<str>, V)>),
}

/// Names of one folder to values, keyed by the name's hash.
struct NameMap<V> {
    table: HashMap<u64, Bucket<V>, BuildHasherDefault<PassThrough>>,
}

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        Self {
            table: HashMap::default(),
        }
    }
}

impl<V> NameMap<V> {
    fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn get(&self, hash: u64, name: &str) -> Option<&V> {
        match self.table.get(&hash)? {
            Bucket::One(n, v) => (**n == *name).then_some(v),
            Bucket::Many(all) => all.iter().find(|(n, _)| **n == *name).map(|(_, v)| v),
        }
    }

    fn insert(&mut self, hash: u64, name: &str, value: V) {
        match self.table.entry(hash) {
            Entry::Vacant(e) => {
                e.insert(Bucket::One(name.into(), value));
            }
            Entry::Occupied(mut e) => {
                let bucket = e.get_mut();
                match bucket {
                    Bucket::One(n, v) if **n == *name => *v = value,
                    Bucket::Many(all) => match all.iter_mut().find(|(n, _)| **n == *name) {
                        Some((_, v)) => *v = value,
                        None => all.push((name.into(), value)),
                    },
                    Bucket::One(..) => {
                        // Another name with the same hash: keep both.
                        let old = std::mem::replace(bucket, Bucket::Many(Vec::with_capacity(2)));
                        if let (Bucket::One(n, v), Bucket::Many(all)) = (old, bucket) {
                            all.push((n, v));
                            all.push((name.into(), value));
                        }
                    }
                }
            }
        }
    }

    /// Removes `name`; whether it was there.
    fn remove(&mut self, hash: u64, name: &str) -> bool {
        let Entry::Occupied(mut e) = self.table.entry(hash) else {
            return false;
        };
        match e.get_mut() {
            Bucket::One(n, _) if **n == *name => {
                e.remove();
                true
            }
            Bucket::One(..) => false,
            Bucket::Many(all) => {
                let before = all.len();
                all.retain(|(n, _)| **n != *name);
                let removed = all.len() < before;
                if all.is_empty() {
                    e.remove();
                }
                removed
            }
        }
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.table.values().flat_map(|bucket| {
            let (one, many) = match bucket {
                Bucket::One(n, _) => (Some(&**n), None),
                Bucket::Many(all) => (None, Some(all.iter().map(|(n, _)| &**n))),
            };
            one.into_iter().chain(many.into_iter().flatten())
        })
    }
}

/// One folder: its leaves with their values, and its non-empty sub-folders
/// (each named with its trailing `/`).
#[derive(Default)]
struct Folder {
    leaves: NameMap<Vec<u8>>,
    folders: NameMap<()>,
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
    /// Hashes names, with keys drawn at random per store (names come from
    /// clients: KV paths).
    names: RandomState,
}

impl Tree {
    fn hash(&self, name: &str) -> u64 {
        self.names.hash_one(name)
    }

    /// The value at `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Vec<u8>> {
        let (folder, leaf) = split(key);
        self.folders.get(folder)?.leaves.get(self.hash(leaf), leaf)
    }

    /// Stores `value` at `key`.
    pub(crate) fn put(&mut self, key: &str, value: Vec<u8>) {
        let (folder, leaf) = split(key);
        let hash = self.hash(leaf);
        if let Some(f) = self.folders.get_mut(folder) {
            f.leaves.insert(hash, leaf, value);
            return;
        }
        let mut new = Folder::default();
        new.leaves.insert(hash, leaf, value);
        self.folders.insert(folder.into(), new);
        self.link(folder);
    }

    /// Removes `key`, if present.
    pub(crate) fn delete(&mut self, key: &str) {
        let (folder, leaf) = split(key);
        let hash = self.hash(leaf);
        let Some(f) = self.folders.get_mut(folder) else {
            return;
        };
        if f.leaves.remove(hash, leaf) && f.is_empty() {
            self.unlink(folder);
        }
    }

    /// Records the new, non-empty folder `folder` in its parent, creating
    /// the parents that did not exist yet.
    fn link(&mut self, folder: &str) {
        let mut child = folder;
        while let Some((parent, name)) = split_folder(child) {
            let hash = self.hash(name);
            if let Some(p) = self.folders.get_mut(parent) {
                p.folders.insert(hash, name, ());
                return;
            }
            let mut new = Folder::default();
            new.folders.insert(hash, name, ());
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
            let hash = self.hash(name);
            let Some(p) = self.folders.get_mut(parent) else {
                return;
            };
            p.folders.remove(hash, name);
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
        if limit == 0 {
            return Vec::new();
        }
        let wanted = folder
            .leaves
            .names()
            .chain(folder.folders.names())
            .filter(|name| after.is_none_or(|a| *name > a));
        // The smallest `limit` names: a max-heap of at most `limit`.
        let mut smallest: BinaryHeap<&str> = BinaryHeap::new();
        for name in wanted {
            if smallest.len() < limit {
                smallest.push(name);
            } else if smallest.peek().is_some_and(|largest| name < *largest) {
                smallest.pop();
                smallest.push(name);
            }
        }
        smallest
            .into_sorted_vec()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet as Model};

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
    fn names_sharing_a_hash_are_kept_apart() {
        let mut map: NameMap<u8> = NameMap::default();
        for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
            map.insert(7, name, i as u8);
        }
        map.insert(7, "b", 9);
        assert_eq!(
            (
                map.get(7, "a"),
                map.get(7, "b"),
                map.get(7, "c"),
                map.get(7, "d")
            ),
            (Some(&0), Some(&9), Some(&2), None)
        );
        let mut names: Vec<&str> = map.names().collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(map.remove(7, "b") && !map.remove(7, "b") && !map.remove(8, "a"));
        assert!(map.remove(7, "a") && map.remove(7, "c"));
        assert!(map.is_empty());
        let mut h = PassThrough::default();
        h.write(b"xy");
        assert_ne!(h.finish(), 0, "bytes are folded in, not ignored");
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
