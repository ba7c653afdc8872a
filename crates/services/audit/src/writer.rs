//! A device's writer thread: it owns the sink and the sealer, seals each
//! record into the tamper-evident log, writes it (with a checkpoint line when
//! one is due) and publishes the new head only once the write is durable.
//!
//! A failed write rolls the sealer back to the head before it, so the log
//! never skips a sequence number for a record that is not in the file.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use coffer_audit_log::{CheckpointPolicy, CheckpointSigner, LogHead, Sealer};
use coffer_crypto::Secret;
use serde_json::{Map, Value};
use tokio::sync::oneshot;

use crate::sink::{OpenFile, Sink};

/// What a device's writer thread is asked to do.
pub(crate) enum Command {
    /// Seal and write one record.
    Write {
        /// The record.
        record: Map<String, Value>,
        /// Where the outcome goes.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Reopen the sink (SIGHUP).
    Reopen(oneshot::Sender<Result<(), String>>),
    /// Write a final checkpoint and stop.
    Stop(oneshot::Sender<()>),
}

/// State shared between a device's writer thread and the async side.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The head after the last durable write.
    pub head: LogHead,
    /// Whether `head` changed since it was last persisted.
    pub dirty: bool,
    /// The file the sink has open, for file devices.
    pub file: Option<OpenFile>,
    /// The last write error, cleared by the next success.
    pub last_error: Option<String>,
    /// When the last write succeeded.
    pub last_success: Option<SystemTime>,
}

/// Locks `shared`, recovering from a poisoned lock (the data is plain state
/// that every writer leaves consistent between statements).
pub(crate) fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// How to rebuild the sealer after a failed write.
pub(crate) struct SealerSpec {
    /// The checkpoint key's name.
    pub key_name: String,
    /// The checkpoint key (PKCS#8).
    pub pkcs8: Arc<Secret<Vec<u8>>>,
    /// The log's origin line.
    pub origin: String,
    /// When to write checkpoints.
    pub policy: CheckpointPolicy,
}

impl SealerSpec {
    /// A sealer continuing from `head`.
    pub(crate) fn sealer(&self, head: LogHead) -> Result<Sealer, String> {
        let signer = CheckpointSigner::from_pkcs8(&self.key_name, self.pkcs8.expose())
            .map_err(|e| format!("loading the checkpoint key: {e}"))?;
        Ok(Sealer::new(head, signer, self.origin.clone(), self.policy))
    }
}

/// The writer thread's state.
pub(crate) struct Writer {
    /// The device path, for logs.
    pub path: String,
    /// The sink.
    pub sink: Box<dyn Sink>,
    /// The sealer.
    pub sealer: Sealer,
    /// How to rebuild it.
    pub spec: SealerSpec,
    /// Written in front of every line.
    pub prefix: String,
    /// Shared with the device.
    pub shared: Arc<Mutex<Shared>>,
}

impl Writer {
    fn line(&self, body: Vec<u8>) -> Vec<u8> {
        let mut line = Vec::with_capacity(self.prefix.len() + body.len() + 1);
        line.extend_from_slice(self.prefix.as_bytes());
        line.extend_from_slice(&body);
        line.push(b'\n');
        line
    }

    /// Writes `lines` produced from the sealer; on failure restores the
    /// sealer to `before`.
    fn commit(&mut self, before: LogHead, lines: Vec<Vec<u8>>) -> Result<(), String> {
        match self.sink.write_lines(&lines) {
            Ok(()) => {
                let mut shared = lock(&self.shared);
                shared.head = self.sealer.head().clone();
                shared.dirty = true;
                shared.file = self.sink.open_file();
                shared.last_error = None;
                shared.last_success = Some(SystemTime::now());
                Ok(())
            }
            Err(e) => {
                match self.spec.sealer(before) {
                    Ok(s) => self.sealer = s,
                    // Cannot happen with a key that already loaded once; if it
                    // does, the device keeps failing rather than forking the log.
                    Err(k) => {
                        tracing::error!(device = %self.path, error = %k, "cannot restore the audit sealer")
                    }
                }
                lock(&self.shared).last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    fn write(&mut self, record: Map<String, Value>) -> Result<(), String> {
        let before = self.sealer.head().clone();
        let sealed = self.sealer.seal(record);
        let mut lines = vec![self.line(sealed)];
        if let Some(cp) = self.sealer.checkpoint_if_due(SystemTime::now()) {
            lines.push(self.line(cp));
        }
        self.commit(before, lines)
    }

    fn checkpoint_if_due(&mut self) {
        let before = self.sealer.head().clone();
        if let Some(cp) = self.sealer.checkpoint_if_due(SystemTime::now()) {
            let line = self.line(cp);
            if let Err(e) = self.commit(before, vec![line]) {
                tracing::warn!(device = %self.path, error = %e, "audit checkpoint write failed");
            }
        }
    }

    /// A checkpoint covering every record, if some are not covered yet.
    fn final_checkpoint(&mut self) {
        let head = self.sealer.head();
        let covered = head.last_checkpoint.as_ref().map_or(0, |c| c.size);
        if head.size > covered {
            let before = head.clone();
            let cp = self.sealer.checkpoint_now(SystemTime::now());
            let line = self.line(cp);
            if let Err(e) = self.commit(before, vec![line]) {
                tracing::warn!(device = %self.path, error = %e, "final audit checkpoint write failed");
            }
        }
    }

    /// The thread's loop: serve commands, write due checkpoints while idle,
    /// and stop with a final checkpoint when told to or when the device is
    /// dropped.
    pub(crate) fn run(mut self, rx: Receiver<Command>, tick: Duration) {
        loop {
            match rx.recv_timeout(tick) {
                Ok(Command::Write { record, reply }) => {
                    let outcome = self.write(record);
                    // The caller may have given up (deadline); that is fine.
                    let _ = reply.send(outcome);
                }
                Ok(Command::Reopen(reply)) => {
                    let outcome = self.sink.reopen();
                    if outcome.is_ok() {
                        lock(&self.shared).file = self.sink.open_file();
                    }
                    let _ = reply.send(outcome);
                }
                Ok(Command::Stop(reply)) => {
                    self.final_checkpoint();
                    let _ = reply.send(());
                    return;
                }
                Err(RecvTimeoutError::Timeout) => self.checkpoint_if_due(),
                Err(RecvTimeoutError::Disconnected) => {
                    self.final_checkpoint();
                    return;
                }
            }
        }
    }
}
