//! The writer thread and group commit.
//!
//! Writes are queued on a channel; one thread takes the first waiting write,
//! drains every write queued behind it (up to [`MAX_GROUP`]), applies them all
//! in one write transaction and commits it with immediate durability (one
//! fsync). Each write is acknowledged only after that commit returns. Writes
//! that arrive during a commit wait in the queue and form the next group.
//!
//! If applying one write of a group fails (say, a value too large for redb),
//! the transaction is aborted and each write of the group is retried in its
//! own transaction, so one bad write never fails the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use coffer_storage::{StorageError, WriteOp};
use tokio::sync::{mpsc, oneshot};

use crate::TABLE;
use crate::error::{backend, writer_stopped};

/// The most writes committed in one transaction.
const MAX_GROUP: usize = 512;

/// How many writes may wait in the queue before senders wait for room.
const QUEUE_DEPTH: usize = 4096;

/// One caller's writes (applied atomically) and where to send the outcome.
struct Job {
    ops: Vec<WriteOp>,
    reply: oneshot::Sender<Result<(), StorageError>>,
}

/// Why a group did not commit: applying a write, or the transaction itself.
enum GroupError {
    Apply(StorageError),
    Transaction(String),
}

/// The handle to the writer thread. Dropping it closes the queue, lets the
/// thread finish the writes already queued and waits for it to exit.
pub(crate) struct Writer {
    queue: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread on `db`.
    pub(crate) fn start(db: Arc<redb::Database>) -> Result<Self, StorageError> {
        let (queue, rx) = mpsc::channel(QUEUE_DEPTH);
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        let thread = std::thread::Builder::new()
            .name("coffer-redb-writer".into())
            .spawn(move || run(&db, rx, &counter))
            .map_err(|e| backend("cannot start the writer thread", e))?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
            commits,
        })
    }

    /// Applies `ops` atomically and durably; returns once they are committed.
    pub(crate) async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        let queue = self.queue.as_ref().ok_or_else(writer_stopped)?;
        let (reply, outcome) = oneshot::channel();
        queue
            .send(Job { ops, reply })
            .await
            .map_err(|_| writer_stopped())?;
        outcome.await.map_err(|_| writer_stopped())?
    }

    /// How many write transactions have committed.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Closes the queue and waits for the thread to finish. Blocks for at
    /// most the writes already queued.
    pub(crate) fn shutdown(&mut self) -> Result<(), StorageError> {
        self.queue = None;
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| writer_stopped()),
            None => Ok(()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // A writer thread that panicked has already failed every write it
        // held (their reply channels closed); nothing more to report here.
        let _ = self.shutdown();
    }
}

/// The thread's loop: one group per iteration until the queue closes.
fn run(db: &redb::Database, mut rx: mpsc::Receiver<Job>, commits: &AtomicU64) {
    while let Some(first) = rx.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(db, group, commits);
    }
}

/// Commits `group` in one transaction and answers every job.
fn commit_group(db: &redb::Database, group: Vec<Job>, commits: &AtomicU64) {
    let counted = |batches: &mut dyn Iterator<Item = &[WriteOp]>| {
        let done = commit(db, batches);
        if done.is_ok() {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        done
    };
    match counted(&mut group.iter().map(|job| job.ops.as_slice())) {
        Ok(()) => {
            for job in group {
                // The caller may have stopped waiting; the write stands.
                let _ = job.reply.send(Ok(()));
            }
        }
        Err(GroupError::Apply(_)) if group.len() > 1 => {
            for job in group {
                let alone = counted(&mut std::iter::once(job.ops.as_slice()));
                let _ = job.reply.send(alone.map_err(GroupError::into_error));
            }
        }
        Err(err) => {
            let err = err.into_error();
            for job in group {
                let _ = job.reply.send(Err(clone_error(&err)));
            }
        }
    }
}

/// A copy of a backend error for each job of a failed group.
fn clone_error(err: &StorageError) -> StorageError {
    match err {
        StorageError::Backend(msg) => StorageError::Backend(msg.clone()),
        other => StorageError::Backend(other.to_string()),
    }
}

impl GroupError {
    fn into_error(self) -> StorageError {
        match self {
            GroupError::Apply(err) => err,
            GroupError::Transaction(msg) => StorageError::Backend(msg),
        }
    }
}

/// One write transaction applying every batch, committed durably.
fn commit<'a>(
    db: &redb::Database,
    batches: impl Iterator<Item = &'a [WriteOp]>,
) -> Result<(), GroupError> {
    let tx_err = |context: &str, e: &dyn std::fmt::Display| {
        GroupError::Transaction(format!("redb: {context}: {e}"))
    };
    let mut txn = db
        .begin_write()
        .map_err(|e| tx_err("begin write transaction", &e))?;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(|e| tx_err("set immediate durability", &e))?;
    let applied = apply(&txn, batches);
    if let Err(err) = applied {
        // The abort's own failure changes nothing: nothing was committed.
        let _ = txn.abort();
        return Err(GroupError::Apply(err));
    }
    txn.commit().map_err(|e| tx_err("commit", &e))
}

/// Applies every write of every batch to the open transaction.
fn apply<'a>(
    txn: &redb::WriteTransaction,
    batches: impl Iterator<Item = &'a [WriteOp]>,
) -> Result<(), StorageError> {
    let mut table = txn
        .open_table(TABLE)
        .map_err(|e| backend("open table", e))?;
    for op in batches.flatten() {
        match op {
            WriteOp::Put(key, value) => {
                table
                    .insert(key.as_str(), value.as_slice())
                    .map_err(|e| backend("put", e))?;
            }
            WriteOp::Delete(key) => {
                table
                    .remove(key.as_str())
                    .map_err(|e| backend("delete", e))?;
            }
        }
    }
    Ok(())
}
