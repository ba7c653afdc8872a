//! `RedbStorage` against the conformance suite, reopening, concurrency and
//! the errors of `open`.

use std::sync::Arc;

use coffer_storage::{Key, Prefix, Storage, WriteOp};
use coffer_storage_redb::RedbStorage;

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

#[tokio::test]
async fn passes_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStorage::open(&dir.path().join("c.redb")).unwrap();
    coffer_storage::conformance::run_all(&store).await;
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/data.redb");
    let store = RedbStorage::open_async(&path, coffer_storage_redb::DEFAULT_PAGE_CACHE_BYTES)
        .await
        .unwrap();
    store.put(&key("a/b"), b"one".to_vec()).await.unwrap();
    store
        .write_batch(vec![
            WriteOp::Put(key("a/c"), b"two".to_vec()),
            WriteOp::Put(key("z"), vec![0, 255]),
        ])
        .await
        .unwrap();
    store.delete(&key("z")).await.unwrap();
    store.close().await.unwrap();

    let store = RedbStorage::open(&path).unwrap();
    assert_eq!(store.get(&key("a/b")).await.unwrap(), Some(b"one".to_vec()));
    assert_eq!(store.get(&key("a/c")).await.unwrap(), Some(b"two".to_vec()));
    assert_eq!(store.get(&key("z")).await.unwrap(), None);
    assert_eq!(store.list(&Prefix::root()).await.unwrap(), ["a/"]);
    drop(store);
    // Dropping (not closing) also releases the file.
    let store = RedbStorage::open(&path).unwrap();
    assert_eq!(
        store.list(&Prefix::new("a").unwrap()).await.unwrap(),
        ["b", "c"]
    );
}

#[cfg(unix)]
#[tokio::test]
async fn new_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.redb");
    let _store = RedbStorage::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "file mode {mode:o} is readable by others");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_writers_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.redb");
    let store = Arc::new(RedbStorage::open(&path).unwrap());
    let mut tasks = Vec::new();
    for w in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..8 {
                let k = key(&format!("w/{w:02}/{i}"));
                store
                    .put(&k, format!("{w}-{i}").into_bytes())
                    .await
                    .unwrap();
                // A writer reads its own acknowledged write.
                assert_eq!(
                    store.get(&k).await.unwrap(),
                    Some(format!("{w}-{i}").into_bytes())
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        store.list(&Prefix::new("w").unwrap()).await.unwrap().len(),
        64
    );
    let commits = store.commits();
    assert!(
        commits < 64 * 8,
        "{commits} commits for 512 writes: no group commit"
    );
    let store = Arc::into_inner(store).unwrap();
    store.close().await.unwrap();
    let store = RedbStorage::open(&path).unwrap();
    for w in 0..64 {
        let p = Prefix::new(format!("w/{w:02}")).unwrap();
        assert_eq!(store.list(&p).await.unwrap().len(), 8, "writer {w}");
    }
}

#[tokio::test]
async fn queued_writes_share_commits_and_all_succeed() {
    // Many puts queue behind each other; all succeed though they share commits.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbStorage::open(&dir.path().join("g.redb")).unwrap());
    let writes = (0..200).map(|i| {
        let store = store.clone();
        async move { store.put(&key(&format!("g/{i:03}")), vec![1; 100]).await }
    });
    assert_eq!(store.commits(), 0);
    for r in futures_join(writes).await {
        r.unwrap();
    }
    // On this single-threaded runtime the 200 puts are queued in one pass
    // of the scheduler (microseconds), while every commit is an fsync: the
    // writer thread can only have taken a few groups. One commit per write
    // (no grouping) gives exactly 200; allow up to half of that so a loaded
    // machine that preempts the queueing task cannot break the test.
    let commits = store.commits();
    assert!(
        (1..=100).contains(&commits),
        "{commits} commits for 200 queued writes: they did not share commits"
    );
    for i in [0, 199] {
        assert_eq!(
            store.get(&key(&format!("g/{i:03}"))).await.unwrap(),
            Some(vec![1; 100])
        );
    }
    let page = store
        .list_page(&Prefix::new("g").unwrap(), Some("g/050"), 3)
        .await;
    // `after` is compared with child names: every child sorts before "g/050".
    assert!(page.unwrap().is_empty());
    let page = store
        .list_page(&Prefix::new("g").unwrap(), Some("050"), 3)
        .await
        .unwrap();
    assert_eq!(page, ["051", "052", "053"]);
}

async fn futures_join<F: std::future::Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn second_open_reports_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.redb");
    let _first = RedbStorage::open(&path).unwrap();
    let err = RedbStorage::open(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("is locked by another process"), "{msg}");
    assert!(msg.contains("l.redb"), "{msg}");
}

#[tokio::test]
async fn a_file_that_is_not_redb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "this is not a database, just some text\n".repeat(200),
    )
    .unwrap();
    let msg = RedbStorage::open(&path).unwrap_err().to_string();
    assert!(msg.contains("is not a redb database"), "{msg}");
    // The file was not touched.
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("this is not")
    );
}

#[tokio::test]
async fn a_damaged_database_is_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.redb");
    let store = RedbStorage::open(&path).unwrap();
    store.put(&key("k"), vec![7; 10_000]).await.unwrap();
    store.close().await.unwrap();
    // Keep the header, scramble everything after it.
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().skip(600) {
        *b ^= 0x5A;
    }
    std::fs::write(&path, &bytes).unwrap();
    match RedbStorage::open(&path) {
        Err(err) => {
            let msg = err.to_string();
            assert!(msg.contains("d.redb") && msg.contains("corrupted"), "{msg}");
        }
        // redb may find nothing wrong until a read touches a damaged page.
        Ok(store) => {
            let read = store.get(&key("k")).await;
            assert_ne!(read.ok().flatten(), Some(vec![7; 10_000]));
        }
    }
}

#[tokio::test]
async fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let msg = RedbStorage::open(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("cannot open storage file"), "{msg}");
}
