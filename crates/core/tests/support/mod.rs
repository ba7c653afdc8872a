//! A dev-mode core on a manual clock, driven with the root token, for the
//! hardening tests.
#![allow(dead_code)]

use std::sync::Arc;

use coffer_core::{Core, CoreConfig};
use coffer_sdk::ManualClock;
use coffer_sdk::catalog::Catalog;
use coffer_storage::{MemoryStorage, Storage};
use coffer_types::{Operation, Request, Response, Result};
use serde_json::{Map, Value};

/// An unsealed in-memory core and its root token.
pub struct Harness {
    pub core: Arc<Core>,
    pub clock: Arc<ManualClock>,
    pub root: String,
}

impl Harness {
    pub async fn dev() -> Self {
        Self::dev_with(Arc::new(MemoryStorage::new()), coffer_builtins::catalog()).await
    }

    /// A dev-mode core over `storage` that can mount what `catalog` lists.
    pub async fn dev_with(storage: Arc<dyn Storage>, catalog: Catalog) -> Self {
        let clock = Arc::new(ManualClock::starting_now());
        let config = CoreConfig {
            clock: clock.clone(),
            catalog,
            ..CoreConfig::default()
        };
        let core = Core::new(storage, config);
        let init = core.dev_init(None).await.unwrap();
        Self {
            core,
            clock,
            root: init.root_token.expose().to_owned(),
        }
    }

    /// `op path` with `data` and `token` (none when `None`).
    pub async fn call(
        &self,
        token: Option<&str>,
        op: Operation,
        path: &str,
        data: Value,
    ) -> Result<Response> {
        let data: Map<String, Value> = data.as_object().cloned().unwrap_or_default();
        let mut req = Request::new(op, path).with_data(data);
        if let Some(t) = token {
            req = req.with_token(t);
        }
        self.core.handle(req).await
    }

    /// `op path` with `data` as root.
    pub async fn root(&self, op: Operation, path: &str, data: Value) -> Result<Response> {
        self.call(Some(&self.root.clone()), op, path, data).await
    }
}

impl Harness {
    /// Mounts a secrets engine (`sys/mounts/PATH`) or, for a path starting
    /// `auth/`, an auth method (`sys/auth/PATH`) of type `kind`.
    pub async fn enable(&self, path: &str, kind: &str) {
        let target = match path.strip_prefix("auth/") {
            Some(auth) => format!("sys/auth/{auth}"),
            None => format!("sys/mounts/{path}"),
        };
        self.root(
            Operation::Update,
            &target,
            serde_json::json!({ "type": kind }),
        )
        .await
        .unwrap();
    }

    /// Whether the operator operation at `path` (`sys/rekey/init`,
    /// `sys/generate-root/attempt`) reports itself started.
    pub async fn started(&self, path: &str) -> bool {
        let r = self
            .call(None, Operation::Read, path, Value::Null)
            .await
            .unwrap();
        r.raw.unwrap()["started"] == serde_json::json!(true)
    }
}

/// The HTTP status a result would be answered with.
pub fn status(r: &Result<Response>) -> u16 {
    match r {
        Ok(resp) => resp.status.unwrap_or(200),
        Err(e) => e.status(),
    }
}

/// The error text of a failed result ("" on success).
pub fn error_text(r: &Result<Response>) -> String {
    match r {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}
