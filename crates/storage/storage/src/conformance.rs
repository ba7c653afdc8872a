//! The conformance suite every [`Storage`] implementation must pass.
//!
//! Call [`run_all`] from a backend's tests with an empty store. Each check
//! panics with a message naming the property that failed; the checks use
//! disjoint key prefixes, so they can run against one store.

use crate::{Key, Prefix, Storage, WriteOp, list_recursive};

fn key(s: &str) -> Key {
    Key::new(s).expect("conformance keys are valid")
}

fn prefix(s: &str) -> Prefix {
    Prefix::new(s).expect("conformance prefixes are valid")
}

/// Runs every check against `storage`, which must start empty.
pub async fn run_all(storage: &dyn Storage) {
    get_put_delete(storage).await;
    overwrite_replaces(storage).await;
    list_children(storage).await;
    list_pages(storage).await;
    batch_is_applied_whole(storage).await;
    binary_and_large_values(storage).await;
    recursive_listing(storage).await;
    prefix_neighbours_do_not_leak(storage).await;
}

/// A value can be written, read back exactly and deleted; deleting twice is fine.
pub async fn get_put_delete(s: &dyn Storage) {
    let k = key("cf/basic/one");
    assert_eq!(s.get(&k).await.unwrap(), None, "fresh key must be absent");
    s.put(&k, b"hello".to_vec()).await.unwrap();
    assert_eq!(
        s.get(&k).await.unwrap().as_deref(),
        Some(&b"hello"[..]),
        "read back"
    );
    s.delete(&k).await.unwrap();
    assert_eq!(s.get(&k).await.unwrap(), None, "deleted key must be absent");
    s.delete(&k)
        .await
        .expect("deleting an absent key is not an error");
}

/// A second put replaces the first.
pub async fn overwrite_replaces(s: &dyn Storage) {
    let k = key("cf/overwrite/k");
    s.put(&k, b"first".to_vec()).await.unwrap();
    s.put(&k, b"second".to_vec()).await.unwrap();
    assert_eq!(s.get(&k).await.unwrap().as_deref(), Some(&b"second"[..]));
}

/// Listing returns immediate children, folders once with a trailing `/`, sorted;
/// an empty prefix lists nothing.
pub async fn list_children(s: &dyn Storage) {
    for k in [
        "cf/list/a",
        "cf/list/b/x",
        "cf/list/b/y",
        "cf/list/c/d/e",
        "cf/list/b",
    ] {
        s.put(&key(k), b"v".to_vec()).await.unwrap();
    }
    let got = s.list(&prefix("cf/list/")).await.unwrap();
    assert_eq!(got, vec!["a", "b", "b/", "c/"], "children of cf/list/");
    assert_eq!(s.list(&prefix("cf/list/b/")).await.unwrap(), vec!["x", "y"]);
    assert!(s.list(&prefix("cf/none/")).await.unwrap().is_empty());
    s.delete(&key("cf/list/c/d/e")).await.unwrap();
    assert_eq!(
        s.list(&prefix("cf/list/")).await.unwrap(),
        vec!["a", "b", "b/"],
        "a folder disappears with its last key"
    );
}

/// `list_page` pages through the same children in order.
pub async fn list_pages(s: &dyn Storage) {
    for i in 0..25 {
        s.put(&key(&format!("cf/page/k{i:02}")), vec![i])
            .await
            .unwrap();
    }
    let p = prefix("cf/page/");
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.list_page(&p, after.as_deref(), 10).await.unwrap();
        assert!(page.len() <= 10, "page larger than the limit");
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        seen.extend(page);
    }
    let expected: Vec<String> = (0..25).map(|i| format!("k{i:02}")).collect();
    assert_eq!(seen, expected, "pages cover every child once, in order");
}

/// A batch applies every put and delete.
pub async fn batch_is_applied_whole(s: &dyn Storage) {
    s.put(&key("cf/batch/old"), b"x".to_vec()).await.unwrap();
    s.write_batch(vec![
        WriteOp::Put(key("cf/batch/a"), b"1".to_vec()),
        WriteOp::Put(key("cf/batch/b"), b"2".to_vec()),
        WriteOp::Delete(key("cf/batch/old")),
    ])
    .await
    .unwrap();
    assert_eq!(s.list(&prefix("cf/batch/")).await.unwrap(), vec!["a", "b"]);
    s.write_batch(Vec::new())
        .await
        .expect("an empty batch is fine");
}

/// Arbitrary bytes (NUL, invalid UTF-8) and a 1 MiB value survive a round trip.
pub async fn binary_and_large_values(s: &dyn Storage) {
    let bin: Vec<u8> = (0..=255u8).collect();
    s.put(&key("cf/bin/all-bytes"), bin.clone()).await.unwrap();
    assert_eq!(s.get(&key("cf/bin/all-bytes")).await.unwrap(), Some(bin));
    let big = vec![0xA5u8; 1 << 20];
    s.put(&key("cf/bin/big"), big.clone()).await.unwrap();
    assert_eq!(s.get(&key("cf/bin/big")).await.unwrap(), Some(big));
    s.put(&key("cf/bin/empty"), Vec::new()).await.unwrap();
    assert_eq!(s.get(&key("cf/bin/empty")).await.unwrap(), Some(Vec::new()));
}

/// [`list_recursive`] finds every leaf below a prefix.
pub async fn recursive_listing(s: &dyn Storage) {
    for k in ["cf/rec/a", "cf/rec/b/c", "cf/rec/b/d/e"] {
        s.put(&key(k), b"v".to_vec()).await.unwrap();
    }
    assert_eq!(
        list_recursive(s, &prefix("cf/rec/")).await.unwrap(),
        vec!["a", "b/c", "b/d/e"]
    );
}

/// Keys that share a string prefix but not a segment stay apart
/// (`cf/nb/ab` is not a child of `cf/nb/a/`).
pub async fn prefix_neighbours_do_not_leak(s: &dyn Storage) {
    s.put(&key("cf/nb/a/x"), b"1".to_vec()).await.unwrap();
    s.put(&key("cf/nb/ab"), b"2".to_vec()).await.unwrap();
    s.put(&key("cf/nb/a0"), b"3".to_vec()).await.unwrap();
    assert_eq!(s.list(&prefix("cf/nb/a/")).await.unwrap(), vec!["x"]);
}
