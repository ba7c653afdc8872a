//! Reads inside one read transaction: point lookups and child listings by
//! range scan.
//!
//! A listing never visits a folder's contents: on meeting the first key of a
//! folder `f/` it seeks straight past `f/` (to `f0`, as `'0'` is the byte after
//! `'/'`), so listing costs one seek per child, not one step per key below.

use std::ops::Bound;

use redb::ReadOnlyTable;

/// The table as a read transaction sees it.
pub(crate) type ReadTable = ReadOnlyTable<&'static str, &'static [u8]>;

/// The value stored at `key`, if any.
pub(crate) fn get(table: &ReadTable, key: &str) -> Result<Option<Vec<u8>>, redb::StorageError> {
    Ok(table.get(key)?.map(|v| v.value().to_vec()))
}

/// The first key after every key below folder `folder` (`folder` without its
/// trailing `/`): `folder` followed by `'0'`, the byte after `'/'`.
fn past_folder(folder: &str) -> String {
    format!("{folder}0")
}

/// The exclusive upper bound of the keys below `prefix`, or `None` for the
/// root prefix (no bound).
fn end_of(prefix: &str) -> Option<String> {
    prefix.strip_suffix('/').map(past_folder)
}

/// Where to start scanning for the children of `prefix` that sort after
/// `after`.
fn start_of(prefix: &str, after: Option<&str>) -> Bound<String> {
    match after {
        None => Bound::Included(prefix.to_owned()),
        Some(a) => match a.strip_suffix('/') {
            Some(folder) => Bound::Included(past_folder(&format!("{prefix}{folder}"))),
            None => Bound::Excluded(format!("{prefix}{a}")),
        },
    }
}

/// The immediate children of `prefix` (empty or ending in `/`) that sort
/// after `after`, at most `limit`, in order; folders once, with a trailing `/`.
pub(crate) fn children(
    table: &ReadTable,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, redb::StorageError> {
    let mut out: Vec<String> = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let end = end_of(prefix);
    let mut start = start_of(prefix, after);
    'seek: loop {
        let lower = match &start {
            Bound::Included(s) => Bound::Included(s.as_str()),
            Bound::Excluded(s) => Bound::Excluded(s.as_str()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        for entry in table.range::<&str>((lower, upper))? {
            let (key, _) = entry?;
            let key = key.value();
            // Every key in the range starts with `prefix`; stop if not.
            let Some(rest) = key.strip_prefix(prefix) else {
                break 'seek;
            };
            let (child, folder) = match rest.find('/') {
                Some(i) => (&rest[..=i], Some(&rest[..i])),
                None => (rest, None),
            };
            // The filter matters only for an `after` that is not a child name
            // (say `a/b`): the start bound alone would let `a/` through.
            let wanted = !child.is_empty() && after.is_none_or(|a| child > a);
            if wanted && out.last().map(String::as_str) != Some(child) {
                out.push(child.to_owned());
                if out.len() >= limit {
                    break 'seek;
                }
            }
            if let Some(folder) = folder {
                start = Bound::Included(past_folder(&format!("{prefix}{folder}")));
                continue 'seek;
            }
        }
        break;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableDatabase;

    fn table_with(keys: &[&str]) -> (tempfile::TempDir, redb::Database, ReadTable) {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("t.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(crate::TABLE).unwrap();
            for k in keys {
                t.insert(*k, &b"v"[..]).unwrap();
            }
        }
        txn.commit().unwrap();
        let table = db.begin_read().unwrap().open_table(crate::TABLE).unwrap();
        (dir, db, table)
    }

    #[test]
    fn bounds_cover_exactly_the_prefix() {
        assert_eq!(end_of("a/b/"), Some("a/b0".to_owned()));
        assert_eq!(end_of(""), None);
        assert_eq!(
            start_of("p/", Some("x/")),
            Bound::Included("p/x0".to_owned())
        );
        assert_eq!(start_of("p/", Some("x")), Bound::Excluded("p/x".to_owned()));
    }

    #[test]
    fn lists_children_in_order_with_neighbours_apart() {
        let keys = [
            "p/a", "p/a!", "p/a-b", "p/a/x", "p/a/y/z", "p/b/c", "p0", "o/x", "p/c",
        ];
        let (_dir, _db, t) = table_with(&keys);
        assert_eq!(
            children(&t, "p/", None, usize::MAX).unwrap(),
            ["a", "a!", "a-b", "a/", "b/", "c"]
        );
        assert_eq!(
            children(&t, "", None, usize::MAX).unwrap(),
            ["o/", "p/", "p0"]
        );
        assert_eq!(children(&t, "p/a/", None, usize::MAX).unwrap(), ["x", "y/"]);
        assert!(children(&t, "q/", None, usize::MAX).unwrap().is_empty());
    }

    #[test]
    fn pages_start_after_any_marker() {
        let (_dir, _db, t) = table_with(&["p/a", "p/a/x", "p/b/c", "p/c", "p/d"]);
        assert_eq!(children(&t, "p/", None, 2).unwrap(), ["a", "a/"]);
        assert_eq!(children(&t, "p/", Some("a/"), 2).unwrap(), ["b/", "c"]);
        assert_eq!(
            children(&t, "p/", Some("a"), 10).unwrap(),
            ["a/", "b/", "c", "d"]
        );
        // Not a child name: the result still holds only children after it.
        assert_eq!(
            children(&t, "p/", Some("a/x"), 10).unwrap(),
            ["b/", "c", "d"]
        );
        assert_eq!(
            children(&t, "p/", Some("zz"), 10).unwrap(),
            Vec::<String>::new()
        );
        assert!(children(&t, "p/", None, 0).unwrap().is_empty());
    }
}
