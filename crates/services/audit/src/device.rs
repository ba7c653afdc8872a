//! One enabled audit device: its configuration, salt and log head, and the
//! handle to its writer thread. Every write has a deadline; a device that
//! does not answer in time counts as failed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coffer_audit_log::LogHead;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::options::{FileTarget, SinkOptions};
use crate::sink::{self, OpenFile};
use crate::tamper::{Expected, FileCheck, check_file};
use crate::writer::{Command, SealerSpec, Shared, Writer, lock};
use crate::{AuditError, DeviceOptions, Salt};

/// Records queued for one device at most; beyond it writes fail at once.
const QUEUE_LEN: usize = 1024;

/// How often an idle writer checks whether a checkpoint is due.
const MAX_TICK: Duration = Duration::from_secs(1);

/// A device as stored in the audit table and listed by `sys/audit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEntry {
    /// The path, with its trailing `/` (`file/`).
    pub path: String,
    /// `file`, `socket` or `syslog`.
    #[serde(rename = "type")]
    pub device_type: String,
    /// Free text.
    pub description: String,
    /// The options as given.
    pub options: BTreeMap<String, String>,
    /// Whether the device is local to this cluster (listed only).
    pub local: bool,
    /// Names the device's storage (salt, head).
    pub uuid: String,
    /// Declared in the server configuration (cannot be disabled over the API).
    pub declared: bool,
}

/// What the barrier keeps per device after every durable write.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredHead {
    /// The log head.
    pub head: LogHead,
    /// The length of the device's current file after that write (file
    /// devices; 0 after a rotation until the next write).
    pub file_len: u64,
}

/// Everything needed to start a device.
pub(crate) struct DeviceSetup {
    pub entry: DeviceEntry,
    pub options: DeviceOptions,
    pub salt: Salt,
    pub stored: StoredHead,
    pub spec: SealerSpec,
    /// The deadline of file and syslog writes.
    pub deadline: Duration,
    /// The local syslog socket of `syslog` devices.
    pub syslog_socket: PathBuf,
}

/// An enabled device.
pub(crate) struct Device {
    pub entry: DeviceEntry,
    pub options: DeviceOptions,
    pub salt: Salt,
    deadline: Duration,
    tx: SyncSender<Command>,
    pub shared: Arc<Mutex<Shared>>,
    /// Tampering found at start-up (sticky: the evidence is gone from the file).
    pub startup_problems: Vec<String>,
    /// The last running-time problem reported (to count each one once).
    pub reported: Mutex<Option<String>>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("path", &self.entry.path)
            .field("type", &self.entry.device_type)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// The configured file path of a file device writing to a real file.
    pub fn file_path(&self) -> Option<PathBuf> {
        match &self.options.sink {
            SinkOptions::File {
                target: FileTarget::Path(p),
                ..
            } => Some(p.clone()),
            _ => None,
        }
    }

    /// Opens the sink, checks the file against the stored head, and starts
    /// the writer thread. Blocking: call from `spawn_blocking`.
    pub(crate) fn start(setup: DeviceSetup) -> Result<Device, AuditError> {
        let DeviceSetup {
            entry,
            options,
            salt,
            stored,
            spec,
            deadline,
            syslog_socket,
        } = setup;
        let prefix = options.format.prefix.clone();
        let mut startup_problems = Vec::new();
        if let SinkOptions::File {
            target: FileTarget::Path(p),
            ..
        } = &options.sink
        {
            let expected = Expected {
                len: stored.file_len,
                id: None,
                head_size: stored.head.size,
            };
            if let Some(problem) = check_file(p, expected, &prefix).problem {
                startup_problems.push(format!("at start-up: {problem}"));
            }
        }
        let sink = sink::open(&options.sink, &syslog_socket).map_err(AuditError::Setup)?;
        let sealer = spec
            .sealer(stored.head.clone())
            .map_err(AuditError::Internal)?;
        let deadline = match &options.sink {
            SinkOptions::Socket { write_timeout, .. } => *write_timeout,
            _ => deadline,
        };
        let shared = Arc::new(Mutex::new(Shared {
            head: stored.head,
            // After tampering found at start-up, store the new baseline so the
            // same problem is not reported again at every restart.
            dirty: !startup_problems.is_empty(),
            file: sink.open_file(),
            last_error: None,
            last_success: None,
        }));
        let tick = spec.policy.every.clamp(Duration::from_millis(10), MAX_TICK);
        let writer = Writer {
            path: entry.path.clone(),
            sink,
            sealer,
            spec,
            prefix,
            shared: shared.clone(),
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE_LEN);
        std::thread::Builder::new()
            .name(format!("audit-{}", entry.path.trim_end_matches('/')))
            .spawn(move || writer.run(rx, tick))
            .map_err(|e| AuditError::Setup(format!("starting the audit writer: {e}")))?;
        Ok(Device {
            entry,
            options,
            salt,
            deadline,
            tx,
            shared,
            startup_problems,
            reported: Mutex::new(None),
        })
    }

    /// Queues `record`; the returned receiver yields the outcome.
    pub(crate) fn submit(
        &self,
        record: Map<String, Value>,
    ) -> Result<oneshot::Receiver<Result<(), String>>, AuditError> {
        let (reply, rx) = oneshot::channel();
        match self.tx.try_send(Command::Write { record, reply }) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => {
                Err(self.fail("write queue is full: the device is not keeping up"))
            }
            Err(TrySendError::Disconnected(_)) => Err(self.fail("the device's writer has stopped")),
        }
    }

    fn fail(&self, reason: impl Into<String>) -> AuditError {
        let reason = reason.into();
        lock(&self.shared).last_error = Some(reason.clone());
        AuditError::device(&self.entry.path, reason)
    }

    /// When a write submitted at `start` must have completed.
    pub(crate) fn deadline_from(&self, start: Instant) -> Instant {
        // Checked: a configured timeout is at most Go's ~292 years, but no
        // configuration may make a clock addition panic.
        start
            .checked_add(self.deadline)
            .unwrap_or_else(|| start + Duration::from_secs(365 * 86_400))
    }

    /// Waits for a submitted write until `deadline`.
    pub(crate) async fn wait(
        &self,
        rx: oneshot::Receiver<Result<(), String>>,
        deadline: Instant,
    ) -> Result<(), AuditError> {
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(AuditError::device(&self.entry.path, e)),
            Ok(Err(_)) => Err(self.fail("the device's writer has stopped")),
            Err(_) => Err(self.fail(format!("write did not complete within {:?}", self.deadline))),
        }
    }

    /// Closes and reopens the sink (SIGHUP), with the write deadline.
    pub(crate) async fn reopen(&self) -> Result<(), AuditError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Command::Reopen(reply))
            .map_err(|_| self.fail("cannot reach the device's writer"))?;
        let deadline = self.deadline_from(Instant::now());
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(Ok(()))) => {
                let mut shared = lock(&self.shared);
                shared.dirty = true;
                drop(shared);
                *self.reported.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(())
            }
            Ok(Ok(Err(e))) => Err(self.fail(e)),
            _ => Err(self.fail("reopen did not complete in time")),
        }
    }

    /// Writes a final checkpoint and stops the writer (waits at most the
    /// deadline).
    pub(crate) async fn stop(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.try_send(Command::Stop(reply)).is_ok() {
            let _ = tokio::time::timeout(self.deadline, rx).await;
        }
    }

    /// The durable head and what the barrier should hold for it; clears the
    /// dirty flag when `take` is set.
    pub(crate) fn stored_head(&self, take: bool) -> (StoredHead, bool) {
        let mut shared = lock(&self.shared);
        let dirty = shared.dirty;
        if take {
            shared.dirty = false;
        }
        let stored = StoredHead {
            head: shared.head.clone(),
            file_len: shared
                .file
                .as_ref()
                .filter(|f| f.regular)
                .map_or(0, |f| f.len),
        };
        (stored, dirty)
    }

    /// Marks the head dirty again (its persistence failed).
    pub(crate) fn mark_dirty(&self) {
        lock(&self.shared).dirty = true;
    }

    /// Compares the file on disk with the head (file devices only).
    pub(crate) async fn check(&self) -> Option<FileCheck> {
        let path = self.file_path()?;
        let (open, head_size): (Option<OpenFile>, u64) = {
            let shared = lock(&self.shared);
            (shared.file.clone(), shared.head.size)
        };
        if open.as_ref().is_some_and(|f| !f.regular) {
            // `/dev/null` and other device files hold no log to check.
            return None;
        }
        let expected = Expected {
            len: open.as_ref().map_or(0, |f| f.len),
            id: open.as_ref().map(|f| (f.dev, f.ino)),
            head_size,
        };
        let prefix = self.options.format.prefix.clone();
        tokio::task::spawn_blocking(move || check_file(&path, expected, &prefix))
            .await
            .ok()
    }
}
