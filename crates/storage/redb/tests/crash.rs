//! A write acknowledged by `RedbStorage` survives `kill -9` of the process.
//!
//! The test re-runs its own test binary as a child (selected by an
//! environment variable) that writes keys from several concurrent tasks and
//! prints each key once its `put` has returned. The parent kills the child
//! with SIGKILL mid-stream, reopens the file and checks that every printed
//! key is there.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer_storage::{Key, Storage};
use coffer_storage_redb::RedbStorage;

/// Set (to the database path) only in the child process.
const CHILD_ENV: &str = "COFFER_REDB_CRASH_CHILD_DB";
const WRITERS: usize = 8;

fn value_for(key: &str) -> Vec<u8> {
    format!("value of {key}").into_bytes()
}

/// The key of an `ACK <key>` line.
fn acked_key(line: &str) -> Option<String> {
    let key = &line[line.find("ACK ")? + 4..];
    // Every key has the same length; anything else is not a whole line.
    assert_eq!(key.len(), "crash/0/000000".len(), "garbled line {line:?}");
    Some(key.to_owned())
}

/// The child's work; a no-op in an ordinary test run.
#[test]
fn crash_child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = Arc::new(RedbStorage::open(Path::new(&path)).unwrap());
        println!("READY");
        let deadline = Instant::now() + Duration::from_secs(30);
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut i = 0u32;
                    // Bounded so an orphaned child stops on its own.
                    while Instant::now() < deadline {
                        let k = format!("crash/{w}/{i:06}");
                        store
                            .put(&Key::new(k.as_str()).unwrap(), value_for(&k))
                            .await
                            .unwrap();
                        println!("ACK {k}");
                        i += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("crash.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    lines
        .by_ref()
        .map(Result::unwrap)
        // libtest may print "test crash_child_writer ... " on the same line.
        .find(|l| l.ends_with("READY"))
        .expect("child never opened the store");

    // While the child holds the file, another process cannot open it.
    let msg = RedbStorage::open(&path).unwrap_err().to_string();
    assert!(msg.contains("locked by another process"), "{msg}");

    let mut acked: Vec<String> = Vec::new();
    for line in lines.by_ref() {
        if let Some(k) = acked_key(&line.unwrap()) {
            acked.push(k);
            if acked.len() >= 400 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on unix
    // Keys printed before the kill are still in the pipe.
    for line in lines {
        match line {
            Ok(line) => {
                acked.extend(acked_key(&line));
            }
            Err(_) => break, // a line cut short by the kill
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
    assert!(
        acked.len() >= 400,
        "only {} writes acknowledged",
        acked.len()
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = RedbStorage::open(&path).unwrap();
        for k in &acked {
            let got = store.get(&Key::new(k.as_str()).unwrap()).await.unwrap();
            assert_eq!(got, Some(value_for(k)), "acknowledged key {k} lost");
        }
        store.close().await.unwrap();
    });
}
