//! Shared helpers for the audit integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use coffer_audit::{AuditManager, AuditManagerOptions};
use coffer_sdk::{Backend, Context, MountConfig, Services, SystemClock};
use coffer_storage::{MemoryStorage, Prefix, Storage, View};
use coffer_types::{Operation, Request, Response, Result};
use serde_json::Value;

pub fn memory() -> Arc<dyn Storage> {
    Arc::new(MemoryStorage::new())
}

pub async fn manager(mem: &Arc<dyn Storage>, opts: AuditManagerOptions) -> AuditManager {
    let view = View::new(mem.clone(), Prefix::new("audit/").unwrap());
    AuditManager::load(view, Arc::new(SystemClock), opts)
        .await
        .unwrap()
}

/// Sends `op` on `path` (relative to `sys/`) to the manager's `sys/` piece,
/// as the core does: the request's path relative to `sys/`, in a context
/// the piece does not use (it keeps its own storage).
pub async fn call(
    mgr: &AuditManager,
    op: Operation,
    path: &str,
    body: Value,
) -> Result<Option<Response>> {
    let req = Request::new(op, path).with_data(body.as_object().cloned().unwrap_or_default());
    let ctx = Context {
        storage: View::new(memory(), Prefix::new("sys/").unwrap()),
        config: MountConfig::default(),
        clock: Arc::new(SystemClock),
        services: Services::default(),
    };
    mgr.handle(&ctx, &req).await
}

pub fn data(resp: Option<Response>) -> Value {
    Value::Object(resp.and_then(|r| r.data).unwrap_or_default())
}

pub async fn enable_file(mgr: &AuditManager, name: &str, file: &Path, extra: Value) {
    let mut options = serde_json::json!({"file_path": file.display().to_string()});
    if let Value::Object(more) = extra {
        options.as_object_mut().unwrap().extend(more);
    }
    call(
        mgr,
        Operation::Update,
        &format!("audit/{name}"),
        serde_json::json!({"type": "file", "options": options}),
    )
    .await
    .unwrap();
}

/// Every line of `path` parsed as JSON.
pub fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The record lines (not checkpoints).
pub fn records(path: &Path) -> Vec<Value> {
    lines(path)
        .into_iter()
        .filter(|l| l["type"] != "checkpoint")
        .collect()
}

pub fn request(id: &str, path: &str, body: Value) -> Request {
    let mut r = Request::new(Operation::Update, path)
        .with_data(body.as_object().cloned().unwrap_or_default())
        .with_token("hvs.testtoken");
    r.id = id.to_owned();
    r
}
