//! Reads inside one read transaction: point lookups and child listings by
//! range scan.
//!
//! A listing never visits a folder's contents (see
//! [`coffer_storage::list_children`]).

use redb::ReadOnlyTable;

/// The table as a read transaction sees it.
pub(crate) type ReadTable = ReadOnlyTable<&'static str, &'static [u8]>;

/// The value stored at `key`, if any.
pub(crate) fn get(table: &ReadTable, key: &str) -> Result<Option<Vec<u8>>, redb::StorageError> {
    Ok(table.get(key)?.map(|v| v.value().to_vec()))
}

/// The immediate children of `prefix` (empty or ending in `/`) that sort
/// after `after`, at most `limit`, in order; folders once, with a trailing `/`.
/// One seek per child ([`coffer_storage::list_children`]).
pub(crate) fn children(
    table: &ReadTable,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, redb::StorageError> {
    coffer_storage::list_children(prefix, after, limit, |lower, upper, visit| {
        for entry in table.range::<&str>((lower, upper))? {
            let (key, _) = entry?;
            if !visit(key.value()) {
                break;
            }
        }
        Ok(())
    })
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
