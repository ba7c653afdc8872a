//! The audit manager the core holds while unsealed: loads the device table,
//! salts, signing key and log heads from the barrier, enables and disables
//! devices, persists log heads, and answers `sys/audit*`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use coffer_audit_log::{CheckpointPolicy, CheckpointSigner, LogHead, default_origin};
use coffer_crypto::{Secret, random_uuid};
use coffer_sdk::Clock;
use coffer_storage::{Storage, View, WriteOp};
use serde::Deserialize;

use crate::broker::AuditBroker;
use crate::device::{Device, DeviceEntry, DeviceSetup, StoredHead};
use crate::options::DEVICE_TYPES;
use crate::sink::DEFAULT_SYSLOG_SOCKET;
use crate::writer::SealerSpec;
use crate::{AuditError, AuditRequest, AuditResponse, DeviceOptions, Salt, store};

/// The metric counting detected tampering (deleted, replaced or truncated
/// audit files).
pub const TAMPER_METRIC: &str = "coffer_audit_tamper_detected_total";

/// Vault-compatible message when enabling over the API is switched off.
pub const API_ENABLE_DISABLED: &str = "cannot enable audit device via API; use declarative, config-based audit device management instead";

/// How the audit manager behaves; built from the server configuration.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuditManagerOptions {
    /// Whether `sys/audit/:path` may enable devices (default true, as Vault).
    pub allow_api_enable: bool,
    /// The checkpoint signing key's name (the C2SP key name).
    pub key_name: String,
    /// When checkpoints are written.
    pub checkpoint_policy: CheckpointPolicy,
    /// Deadline of a write to a file or syslog device (sockets use their
    /// `write_timeout`).
    pub write_deadline: Duration,
    /// How often changed log heads are persisted to the barrier.
    pub persist_interval: Duration,
    /// The local syslog socket `syslog` devices write to (`/dev/log`;
    /// tests point it at a socket of their own).
    pub syslog_socket: PathBuf,
}

impl Default for AuditManagerOptions {
    fn default() -> Self {
        Self {
            allow_api_enable: true,
            key_name: "coffer-audit".to_owned(),
            checkpoint_policy: CheckpointPolicy::default(),
            write_deadline: Duration::from_secs(5),
            persist_interval: Duration::from_secs(1),
            syslog_socket: PathBuf::from(DEFAULT_SYSLOG_SOCKET),
        }
    }
}

impl AuditManagerOptions {
    /// Builder: allow or forbid enabling devices over the API.
    pub fn with_api_enable(mut self, allow: bool) -> Self {
        self.allow_api_enable = allow;
        self
    }

    /// Builder: the checkpoint key name.
    pub fn with_key_name(mut self, name: impl Into<String>) -> Self {
        self.key_name = name.into();
        self
    }

    /// Builder: the checkpoint policy.
    pub fn with_checkpoint_policy(mut self, policy: CheckpointPolicy) -> Self {
        self.checkpoint_policy = policy;
        self
    }

    /// Builder: the file/syslog write deadline.
    pub fn with_write_deadline(mut self, deadline: Duration) -> Self {
        self.write_deadline = deadline;
        self
    }

    /// Builder: how often log heads are persisted.
    pub fn with_persist_interval(mut self, interval: Duration) -> Self {
        self.persist_interval = interval;
        self
    }

    /// Builder: the local syslog socket (default `/dev/log`).
    pub fn with_syslog_socket(mut self, socket: impl Into<PathBuf>) -> Self {
        self.syslog_socket = socket.into();
        self
    }
}

/// An audit device declared in the server configuration file. Such devices
/// cannot be disabled over the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct DeviceConfig {
    /// The path (`file` or `file/`).
    pub path: String,
    /// `file`, `socket` or `syslog`.
    #[serde(rename = "type")]
    pub device_type: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The device's options.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Whether the device is local.
    #[serde(default)]
    pub local: bool,
}

impl DeviceConfig {
    /// A declared device of `device_type` at `path` with `options`.
    pub fn new(path: &str, device_type: &str, options: BTreeMap<String, String>) -> Self {
        Self {
            path: path.to_owned(),
            device_type: device_type.to_owned(),
            options,
            ..Self::default()
        }
    }
}

/// What an enable request asks for.
#[derive(Clone, Debug, Default)]
pub(crate) struct EnableRequest {
    pub path: String,
    pub device_type: String,
    pub description: String,
    pub options: BTreeMap<String, String>,
    pub local: bool,
    pub declared: bool,
}

pub(crate) struct Inner {
    pub view: View,
    pub options: AuditManagerOptions,
    pub broker: AuditBroker,
    /// The table; its lock serialises enable/disable.
    pub table: tokio::sync::Mutex<Vec<DeviceEntry>>,
    pub pkcs8: Arc<Secret<Vec<u8>>>,
    pub public_key: String,
    pub tamper_total: AtomicU64,
    /// Serialises head persistence with device removal.
    pub persist: tokio::sync::Mutex<()>,
}

/// The audit subsystem of one unsealed core.
pub struct AuditManager {
    pub(crate) inner: Arc<Inner>,
    persister: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for AuditManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditManager")
            .field("devices", &self.inner.broker.paths())
            .finish_non_exhaustive()
    }
}

impl Drop for AuditManager {
    fn drop(&mut self) {
        self.persister.abort();
    }
}

/// `path` with exactly one trailing `/`.
pub(crate) fn normalize(path: &str) -> String {
    format!("{}/", path.trim_matches('/'))
}

impl AuditManager {
    /// Loads the audit state from `view` (a barrier view) and starts every
    /// device in the table. Creates the checkpoint signing key on first use.
    /// Fails, as Vault's unseal does, when a stored device cannot be started.
    /// Must run inside a tokio runtime (it spawns the head persister).
    pub async fn load(
        view: View,
        clock: Arc<dyn Clock>,
        options: AuditManagerOptions,
    ) -> Result<Self, AuditError> {
        let pkcs8 = match store::load_signing_key(&view).await? {
            Some(k) => k,
            None => {
                let (_, secret) = CheckpointSigner::generate(&options.key_name).map_err(|e| {
                    AuditError::Internal(format!("generating the checkpoint key: {e}"))
                })?;
                store::save_signing_key(&view, secret.expose()).await?;
                secret.expose().clone()
            }
        };
        let signer = CheckpointSigner::from_pkcs8(&options.key_name, &pkcs8)
            .map_err(|e| AuditError::Internal(format!("loading the checkpoint key: {e}")))?;
        let table = store::load_table(&view).await?;
        let inner = Arc::new(Inner {
            view,
            broker: AuditBroker::new(clock),
            table: tokio::sync::Mutex::new(Vec::new()),
            pkcs8: Arc::new(Secret::new(pkcs8)),
            public_key: signer.public_key().to_string(),
            tamper_total: AtomicU64::new(0),
            persist: tokio::sync::Mutex::new(()),
            options,
        });
        for entry in &table {
            let salt = store::load_salt(&inner.view, &entry.uuid).await?;
            let stored = store::load_head(&inner.view, &entry.uuid)
                .await?
                .unwrap_or_else(|| StoredHead {
                    head: LogHead::empty(),
                    file_len: 0,
                });
            let device = inner.start_device(entry.clone(), salt, stored).await?;
            for problem in &device.startup_problems {
                inner.count_tamper(&entry.path, problem);
            }
            inner.broker.insert(Arc::new(device));
        }
        *inner.table.lock().await = table;
        let persister = tokio::spawn(persist_loop(
            Arc::downgrade(&inner),
            inner.options.persist_interval,
        ));
        Ok(Self { inner, persister })
    }

    /// The broker the core logs requests and responses through.
    pub fn broker(&self) -> &AuditBroker {
        &self.inner.broker
    }

    /// Logs a request on every device; see [`AuditBroker::log_request`].
    pub async fn log_request(&self, input: &AuditRequest<'_>) -> Result<(), AuditError> {
        self.inner.broker.log_request(input).await
    }

    /// Logs a response on every device; see [`AuditBroker::log_response`].
    pub async fn log_response(
        &self,
        input: &AuditRequest<'_>,
        output: &AuditResponse<'_>,
    ) -> Result<(), AuditError> {
        self.inner.broker.log_response(input, output).await
    }

    /// The enabled devices, as the table stores them.
    pub async fn devices(&self) -> Vec<DeviceEntry> {
        self.inner.table.lock().await.clone()
    }

    /// The C2SP verifier key of the checkpoint signing key.
    pub fn public_key(&self) -> &str {
        &self.inner.public_key
    }

    /// The checkpoint key's name.
    pub fn key_name(&self) -> &str {
        &self.inner.options.key_name
    }

    /// Tampering detected since this manager was loaded.
    pub fn tamper_detected_total(&self) -> u64 {
        self.inner.tamper_total.load(Ordering::Relaxed)
    }

    /// The HMAC of `input` under the salt of the device at `path`, as
    /// written in its records (`sys/audit-hash`).
    pub async fn hash(&self, path: &str, input: &str) -> Result<String, AuditError> {
        let path = normalize(path);
        match self.inner.broker.get(&path) {
            Some(device) => Ok(device.salt.hash(input)),
            None => Err(AuditError::UnknownDevice(path)),
        }
    }

    /// Enables a device over the API (`sys/audit/:path`).
    pub(crate) async fn enable_api(&self, req: EnableRequest) -> Result<(), AuditError> {
        if !self.inner.options.allow_api_enable {
            return Err(AuditError::Forbidden(API_ENABLE_DISABLED.into()));
        }
        let mut table = self.inner.table.lock().await;
        self.inner.enable(&mut table, req).await
    }

    /// Disables the device at `path` over the API. Disabling a path with no
    /// device succeeds, as in Vault; a device declared in the server
    /// configuration cannot be disabled.
    pub(crate) async fn disable_api(&self, path: &str) -> Result<(), AuditError> {
        let path = normalize(path);
        if path == "/" {
            return Err(AuditError::Invalid("backend path must be specified".into()));
        }
        let mut table = self.inner.table.lock().await;
        match table.iter().find(|e| e.path == path) {
            None => Ok(()),
            Some(e) if e.declared => Err(AuditError::Forbidden(format!(
                "audit device {path} is declared in the server configuration; remove it there and restart instead"
            ))),
            Some(_) => self.inner.disable(&mut table, &path).await,
        }
    }

    /// Makes the devices declared in the server configuration enabled, as
    /// declared: missing ones are enabled, changed ones replaced, and
    /// declared devices no longer in the configuration disabled. A device
    /// enabled over the API at a declared path with the same type and
    /// options is adopted; with different settings it is an error.
    pub async fn declare_from_config(&self, devices: Vec<DeviceConfig>) -> Result<(), AuditError> {
        let mut table = self.inner.table.lock().await;
        let wanted: Vec<String> = devices.iter().map(|d| normalize(&d.path)).collect();
        let stale: Vec<String> = table
            .iter()
            .filter(|e| e.declared && !wanted.contains(&e.path))
            .map(|e| e.path.clone())
            .collect();
        for path in stale {
            self.inner.disable(&mut table, &path).await?;
        }
        for config in devices {
            let path = normalize(&config.path);
            let existing = table.iter().find(|e| e.path == path).cloned();
            let same = |e: &DeviceEntry| {
                e.device_type == config.device_type && e.options == config.options
            };
            match existing {
                Some(e) if same(&e) => {
                    if !e.declared || e.description != config.description || e.local != config.local
                    {
                        let mut next = (*table).clone();
                        for n in next.iter_mut().filter(|n| n.path == path) {
                            n.declared = true;
                            n.description = config.description.clone();
                            n.local = config.local;
                        }
                        self.inner
                            .view
                            .write_batch(vec![store::put_table(&next)?])
                            .await?;
                        *table = next;
                    }
                }
                Some(e) if e.declared => {
                    self.inner.disable(&mut table, &path).await?;
                    self.inner.enable(&mut table, declared(config)).await?;
                }
                Some(_) => {
                    return Err(AuditError::Invalid(format!(
                        "audit device {path} declared in the server configuration conflicts with a device enabled over the API at the same path"
                    )));
                }
                None => self.inner.enable(&mut table, declared(config)).await?,
            }
        }
        Ok(())
    }

    /// Reopens every device (SIGHUP: file devices reopen their file after
    /// log rotation). Returns the first failure; all devices are tried.
    pub async fn reopen(&self) -> Result<(), AuditError> {
        let mut first = None;
        for device in self.inner.broker.snapshot() {
            if let Err(e) = device.reopen().await {
                tracing::error!(device = %device.entry.path, error = %e, "audit device failed to reopen");
                first.get_or_insert(e);
            }
        }
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Persists every changed log head now.
    pub async fn flush(&self) -> Result<(), AuditError> {
        self.inner.persist_heads().await
    }

    /// Writes a final checkpoint on every device, stops the writers and
    /// persists the heads (call before sealing).
    pub async fn shutdown(&self) -> Result<(), AuditError> {
        for device in self.inner.broker.snapshot() {
            device.stop().await;
        }
        self.inner.persist_heads().await
    }
}

fn declared(config: DeviceConfig) -> EnableRequest {
    EnableRequest {
        path: config.path,
        device_type: config.device_type,
        description: config.description,
        options: config.options,
        local: config.local,
        declared: true,
    }
}

/// Logs detected tampering and counts it in `total` and [`TAMPER_METRIC`].
fn record_tamper(total: &AtomicU64, path: &str, problem: &str) {
    total.fetch_add(1, Ordering::Relaxed);
    metrics::counter!(TAMPER_METRIC, "device" => path.to_owned()).increment(1);
    tracing::error!(device = %path, problem = %problem, "audit log tampering detected");
}

async fn persist_loop(inner: Weak<Inner>, interval: Duration) {
    let mut tick = tokio::time::interval(interval.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if let Err(e) = inner.persist_heads().await {
            tracing::warn!(error = %e, "persisting audit log heads failed");
        }
    }
}

impl Inner {
    pub(crate) fn count_tamper(&self, path: &str, problem: &str) {
        record_tamper(&self.tamper_total, path, problem);
    }

    async fn start_device(
        &self,
        entry: DeviceEntry,
        salt: Salt,
        stored: StoredHead,
    ) -> Result<Device, AuditError> {
        let options = DeviceOptions::parse(&entry.device_type, &entry.options)?;
        let setup = DeviceSetup {
            spec: SealerSpec {
                key_name: self.options.key_name.clone(),
                pkcs8: self.pkcs8.clone(),
                origin: default_origin(&entry.path),
                policy: self.options.checkpoint_policy,
            },
            entry,
            options,
            salt,
            stored,
            deadline: self.options.write_deadline,
            syslog_socket: self.options.syslog_socket.clone(),
        };
        tokio::task::spawn_blocking(move || Device::start(setup))
            .await
            .map_err(|e| AuditError::Internal(format!("starting an audit device: {e}")))?
    }

    async fn enable(
        &self,
        table: &mut Vec<DeviceEntry>,
        req: EnableRequest,
    ) -> Result<(), AuditError> {
        let path = normalize(&req.path);
        if path == "/" {
            return Err(AuditError::Invalid("backend path must be specified".into()));
        }
        if table
            .iter()
            .any(|e| e.path.starts_with(&path) || path.starts_with(&e.path))
        {
            return Err(AuditError::Invalid("path already in use".into()));
        }
        if !DEVICE_TYPES.contains(&req.device_type.as_str()) {
            return Err(AuditError::Invalid(format!(
                "audit device type not supported: {}",
                req.device_type
            )));
        }
        let uuid = random_uuid().map_err(|e| AuditError::Internal(e.to_string()))?;
        let entry = DeviceEntry {
            path: path.clone(),
            device_type: req.device_type,
            description: req.description,
            options: req.options,
            local: req.local,
            uuid: uuid.clone(),
            declared: req.declared,
        };
        let salt = Salt::generate()?;
        let empty = StoredHead {
            head: LogHead::empty(),
            file_len: 0,
        };
        let device = self
            .start_device(entry.clone(), salt.clone(), empty)
            .await?;
        let (stored, _) = device.stored_head(true);
        let mut next = table.clone();
        next.push(entry);
        let ops = vec![
            store::put_salt(&uuid, &salt)?,
            store::put_head(&uuid, &stored)?,
            store::put_table(&next)?,
        ];
        if let Err(e) = self.view.write_batch(ops).await {
            device.stop().await;
            return Err(e.into());
        }
        *table = next;
        self.broker.insert(Arc::new(device));
        tracing::info!(path = %path, "enabled audit device");
        Ok(())
    }

    async fn disable(&self, table: &mut Vec<DeviceEntry>, path: &str) -> Result<(), AuditError> {
        let Some(entry) = table.iter().find(|e| e.path == path).cloned() else {
            return Ok(());
        };
        let next: Vec<DeviceEntry> = table.iter().filter(|e| e.path != path).cloned().collect();
        let _persist = self.persist.lock().await;
        let mut ops = vec![store::put_table(&next)?];
        ops.extend(store::delete_device(&entry.uuid)?);
        self.view.write_batch(ops).await?;
        *table = next;
        if let Some(device) = self.broker.remove(path) {
            device.stop().await;
        }
        tracing::info!(path = %path, "disabled audit device");
        Ok(())
    }

    pub(crate) async fn persist_heads(&self) -> Result<(), AuditError> {
        let _persist = self.persist.lock().await;
        let mut first = None;
        for device in self.broker.snapshot() {
            let (stored, dirty) = device.stored_head(true);
            if !dirty {
                continue;
            }
            let op: Result<WriteOp, AuditError> = store::put_head(&device.entry.uuid, &stored);
            let outcome = match op {
                Ok(op) => self
                    .view
                    .write_batch(vec![op])
                    .await
                    .map_err(AuditError::from),
                Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                device.mark_dirty();
                first.get_or_insert(e);
            }
        }
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use metrics::{
        Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::*;

    /// A counter series: name, labels, value.
    type Series = (String, Vec<(String, String)>, Arc<Cell>);

    #[derive(Default)]
    struct Counting(Mutex<Vec<Series>>);

    #[derive(Default)]
    struct Cell(AtomicU64);

    impl CounterFn for Cell {
        fn increment(&self, value: u64) {
            self.0.fetch_add(value, Ordering::SeqCst);
        }
        fn absolute(&self, value: u64) {
            self.0.store(value, Ordering::SeqCst);
        }
    }

    impl Recorder for Counting {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            let cell = Arc::new(Cell::default());
            self.0
                .lock()
                .unwrap()
                .push((key.name().to_owned(), labels, cell.clone()));
            Counter::from_arc(cell)
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn tamper_is_counted_in_the_metric() {
        let recorder = Counting::default();
        let total = AtomicU64::new(0);
        metrics::with_local_recorder(&recorder, || {
            record_tamper(&total, "file/", "deleted");
            record_tamper(&total, "file/", "truncated");
        });
        assert_eq!(total.load(Ordering::SeqCst), 2);
        let series = recorder.0.lock().unwrap();
        let sum: u64 = series
            .iter()
            .filter(|(n, l, _)| {
                n == TAMPER_METRIC && *l == [("device".to_owned(), "file/".to_owned())]
            })
            .map(|(_, _, c)| c.0.load(Ordering::SeqCst))
            .sum();
        assert_eq!(sum, 2);
    }

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize("file"), "file/");
        assert_eq!(normalize("/a/b/"), "a/b/");
        assert_eq!(normalize(""), "/");
    }
}
