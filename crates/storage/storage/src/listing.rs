//! Listing the children of a prefix by range scans over sorted keys, for
//! backends that keep keys in order (the in-memory map, redb).
//!
//! A listing never visits a folder's contents: on meeting the first key of
//! a folder `f/` it seeks straight past `f/` (to `f0`, as `'0'` is the byte
//! after `'/'`), so listing costs one seek per child, not one step per key
//! below, and a page of a huge folder (a lease time index) costs its page.

use std::ops::Bound;

/// The first key after every key below folder `folder` (`folder` without its
/// trailing `/`): `folder` followed by `'0'`, the byte after `'/'`.
fn past_folder(folder: &str) -> String {
    format!("{folder}0")
}

/// The exclusive upper bound of the keys below `prefix`, or `None` for the
/// root prefix (no bound).
pub(crate) fn end_of(prefix: &str) -> Option<String> {
    prefix.strip_suffix('/').map(past_folder)
}

/// Where to start scanning for the children of `prefix` that sort after
/// `after`.
pub(crate) fn start_of(prefix: &str, after: Option<&str>) -> Bound<String> {
    match after {
        None => Bound::Included(prefix.to_owned()),
        Some(a) => match a.strip_suffix('/') {
            Some(folder) => Bound::Included(past_folder(&format!("{prefix}{folder}"))),
            None => Bound::Excluded(format!("{prefix}{a}")),
        },
    }
}

/// The immediate children of `prefix` (empty or ending in `/`) that sort
/// after `after`, at most `limit`, in order; folders once, with a trailing
/// `/`. `scan(lower, upper, visit)` must call `visit` with the backend's
/// keys in `(lower, upper)` in ascending order, and stop when it returns
/// `false`.
pub fn list_children<E>(
    prefix: &str,
    after: Option<&str>,
    limit: usize,
    mut scan: impl FnMut(Bound<&str>, Bound<&str>, &mut dyn FnMut(&str) -> bool) -> Result<(), E>,
) -> Result<Vec<String>, E> {
    let mut out: Vec<String> = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let end = end_of(prefix);
    let mut start = start_of(prefix, after);
    loop {
        let lower = match &start {
            Bound::Included(s) => Bound::Included(s.as_str()),
            Bound::Excluded(s) => Bound::Excluded(s.as_str()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let mut next_start: Option<String> = None;
        let mut done = false;
        scan(lower, upper, &mut |key: &str| {
            // Every key in the range starts with `prefix`; stop if not.
            let Some(rest) = key.strip_prefix(prefix) else {
                done = true;
                return false;
            };
            let (child, folder) = match rest.find('/') {
                Some(i) => (&rest[..=i], Some(&rest[..i])),
                None => (rest, None),
            };
            // The filter matters only for an `after` that is not a child
            // name (say `a/b`): the start bound alone would let `a/` through.
            let wanted = !child.is_empty() && after.is_none_or(|a| child > a);
            if wanted && out.last().map(String::as_str) != Some(child) {
                out.push(child.to_owned());
                if out.len() >= limit {
                    done = true;
                    return false;
                }
            }
            if let Some(folder) = folder {
                next_start = Some(past_folder(&format!("{prefix}{folder}")));
                return false;
            }
            true
        })?;
        match next_start {
            Some(s) if !done => start = Bound::Included(s),
            _ => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Lists `set` through [`list_children`]; returns the page and how many
    /// keys the scans visited.
    fn list_set(
        set: &BTreeSet<String>,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, usize) {
        let mut visited = 0usize;
        let out = list_children::<()>(prefix, after, limit, |lo, hi, visit| {
            for k in set.range::<str, _>((lo, hi)) {
                visited += 1;
                if !visit(k) {
                    break;
                }
            }
            Ok(())
        })
        .unwrap();
        (out, visited)
    }

    fn list(keys: &[&str], prefix: &str, after: Option<&str>, limit: usize) -> Vec<String> {
        let set: BTreeSet<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let (out, visited) = list_set(&set, prefix, after, limit);
        assert!(visited <= keys.len() + 8, "seeks, does not rescan");
        out
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
    fn children_pages_and_folders() {
        let keys = [
            "p/a", "p/a!", "p/a-b", "p/a/x", "p/a/y/z", "p/b/c", "p0", "o/x", "p/c",
        ];
        assert_eq!(
            list(&keys, "p/", None, usize::MAX),
            ["a", "a!", "a-b", "a/", "b/", "c"]
        );
        assert_eq!(list(&keys, "p/", Some("a-b"), 2), ["a/", "b/"]);
        assert_eq!(list(&keys, "p/", Some("a/"), 10), ["b/", "c"]);
        assert_eq!(list(&keys, "p/a/", None, 10), ["x", "y/"]);
        assert_eq!(list(&keys, "", None, 10), ["o/", "p/", "p0"]);
        assert!(list(&keys, "q/", None, 10).is_empty());
        assert!(list(&keys, "p/", None, 0).is_empty());
    }

    #[test]
    fn a_page_of_a_huge_folder_visits_only_its_page() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("idx/{i:05}/lease")).collect();
        let set: BTreeSet<String> = keys.into_iter().collect();
        let (page, visited) = list_set(&set, "idx/", None, 5);
        assert_eq!(page, ["00000/", "00001/", "00002/", "00003/", "00004/"]);
        assert!(visited <= 10, "visited {visited} keys for a page of 5");
    }
}
