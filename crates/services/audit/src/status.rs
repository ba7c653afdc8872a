//! `sys/audit-log/status`: per device, the log's size and newest checkpoint,
//! the file on disk, and any tampering or write failure. Deleted, replaced
//! or truncated files are reported here, logged and counted in
//! [`crate::TAMPER_METRIC`] (each new problem once).

use coffer_sdk::time::rfc3339;
use serde_json::{Map, Value, json};

use crate::AuditManager;
use crate::writer::lock;

impl AuditManager {
    /// The status of every device: `{"ok": bool, "tamper_detected_total": n,
    /// "devices": {"<path>": {...}}}`.
    pub async fn status(&self) -> Map<String, Value> {
        let mut devices = Map::new();
        let mut all_ok = true;
        for device in self.inner.broker.snapshot() {
            let path = device.entry.path.clone();
            let (head, last_error, last_success) = {
                let shared = lock(&device.shared);
                (
                    shared.head.clone(),
                    shared.last_error.clone(),
                    shared.last_success,
                )
            };
            let check = device.check().await;
            let current = check.as_ref().and_then(|c| c.problem.clone());
            {
                let mut reported = device.reported.lock().unwrap_or_else(|p| p.into_inner());
                if current != *reported {
                    if let Some(problem) = &current {
                        self.inner.count_tamper(&path, problem);
                    }
                    *reported = current.clone();
                }
            }
            let mut errors: Vec<String> = device.startup_problems.clone();
            errors.extend(current);
            if let Some(e) = &last_error {
                errors.push(format!("last write failed: {e}"));
            }
            let ok = errors.is_empty();
            all_ok &= ok;
            let checkpoint = head.last_checkpoint.as_ref().map(|c| {
                json!({
                    "size": c.size,
                    "root": hex::encode(c.root),
                    "time": head.last_checkpoint_time.map(rfc3339),
                })
            });
            let mut d = Map::new();
            d.insert("type".into(), json!(device.entry.device_type));
            d.insert("size".into(), json!(head.size));
            d.insert("last_checkpoint".into(), checkpoint.unwrap_or(Value::Null));
            if let Some(p) = device.file_path() {
                d.insert("file_path".into(), json!(p.display().to_string()));
                let c = check.unwrap_or_default();
                d.insert("file_size".into(), json!(c.size));
                d.insert("file_last_seq".into(), json!(c.last_seq));
            }
            d.insert("last_write".into(), json!(last_success.map(rfc3339)));
            d.insert("ok".into(), json!(ok));
            d.insert("errors".into(), json!(errors));
            devices.insert(path, Value::Object(d));
        }
        let mut data = Map::new();
        data.insert("ok".into(), json!(all_ok));
        data.insert(
            "tamper_detected_total".into(),
            json!(self.tamper_detected_total()),
        );
        data.insert("devices".into(), Value::Object(devices));
        data
    }
}
