//! The audit broker: sends every record to all enabled devices at once and
//! fails closed when none of them recorded it.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use coffer_sdk::Clock;
use tokio::time::Instant;

use crate::device::Device;
use crate::format::Formatter;
use crate::{AuditError, AuditRequest, AuditResponse};

/// Holds the enabled devices and delivers records to them.
pub struct AuditBroker {
    devices: RwLock<BTreeMap<String, Arc<Device>>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AuditBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditBroker")
            .field("devices", &self.paths())
            .finish()
    }
}

impl AuditBroker {
    /// A broker with no devices; `clock` stamps the records.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            devices: RwLock::new(BTreeMap::new()),
            clock,
        }
    }

    /// The enabled devices, by path.
    pub(crate) fn snapshot(&self) -> Vec<Arc<Device>> {
        self.devices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// The device at `path`.
    pub(crate) fn get(&self, path: &str) -> Option<Arc<Device>> {
        self.devices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(path)
            .cloned()
    }

    pub(crate) fn insert(&self, device: Arc<Device>) {
        self.devices
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(device.entry.path.clone(), device);
    }

    pub(crate) fn remove(&self, path: &str) -> Option<Arc<Device>> {
        self.devices
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(path)
    }

    /// The paths of the enabled devices.
    pub fn paths(&self) -> Vec<String> {
        self.devices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Whether any device is enabled.
    pub fn is_enabled(&self) -> bool {
        !self
            .devices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// Records the request on every device before it is served. Fails closed:
    /// with at least one device enabled, `Err` unless one of them durably
    /// recorded it; the core must then refuse the request. With no device
    /// enabled, succeeds.
    pub async fn log_request(&self, input: &AuditRequest<'_>) -> Result<(), AuditError> {
        let now = self.clock.now();
        self.deliver("request", |d| {
            Formatter::new(&d.salt, &d.options.format).request_record(input, now)
        })
        .await
    }

    /// Records the response (or error) on every device before it leaves;
    /// fails closed like [`AuditBroker::log_request`].
    pub async fn log_response(
        &self,
        input: &AuditRequest<'_>,
        output: &AuditResponse<'_>,
    ) -> Result<(), AuditError> {
        let now = self.clock.now();
        self.deliver("response", |d| {
            Formatter::new(&d.salt, &d.options.format).response_record(input, output, now)
        })
        .await
    }

    async fn deliver(
        &self,
        what: &'static str,
        format: impl Fn(&Device) -> serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), AuditError> {
        let devices = self.snapshot();
        if devices.is_empty() {
            return Ok(());
        }
        let start = Instant::now();
        // Queue on every device first, so they all write concurrently.
        let pending: Vec<_> = devices.iter().map(|d| (d, d.submit(format(d)))).collect();
        let mut any = false;
        for (device, submitted) in pending {
            let outcome = match submitted {
                Ok(rx) => device.wait(rx, device.deadline_from(start)).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => any = true,
                Err(e) => tracing::error!(
                    device = %device.entry.path,
                    error = %e,
                    "audit device failed to log the {what}"
                ),
            }
        }
        if any {
            Ok(())
        } else {
            Err(AuditError::NotLogged(what))
        }
    }
}
