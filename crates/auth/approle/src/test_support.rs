//! Test harness: the backend over in-memory storage and a manual clock.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use coffer_sdk::{Backend, Context, ManualClock, MountConfig};
use coffer_storage::{MemoryStorage, Prefix, Storage, View, list_recursive};
use coffer_types::{LoginGrant, Operation, Request, Response, Result};
use serde_json::{Value, json};

use crate::AppRole;

pub(crate) struct Harness {
    pub backend: AppRole,
    pub ctx: Context,
    pub clock: Arc<ManualClock>,
    pub mem: Arc<MemoryStorage>,
}

impl Harness {
    /// A mount at `auth/approle/` whose clock reads 2023-11-14T22:13:20.123456789Z.
    pub fn new() -> Self {
        let mem = Arc::new(MemoryStorage::new());
        let storage = View::new(mem.clone(), Prefix::new("auth/test-mount/").unwrap());
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
        ));
        let ctx = Context {
            storage,
            config: MountConfig {
                path: "auth/approle/".into(),
                accessor: "auth_approle_test".into(),
                default_lease_ttl: Duration::from_secs(768 * 3600),
                max_lease_ttl: Duration::from_secs(768 * 3600),
                options: serde_json::Map::new(),
            },
            clock: clock.clone(),
            services: coffer_sdk::Services::default(),
        };
        Self {
            backend: AppRole::new(),
            ctx,
            clock,
            mem,
        }
    }

    pub async fn call(&self, op: Operation, path: &str, data: Value) -> Result<Option<Response>> {
        self.call_from(op, path, data, None).await
    }

    pub async fn call_from(
        &self,
        op: Operation,
        path: &str,
        data: Value,
        addr: Option<IpAddr>,
    ) -> Result<Option<Response>> {
        let mut req = Request::new(op, path);
        req.data = data.as_object().cloned().expect("test bodies are objects");
        req.client_addr = addr;
        self.backend.handle(&self.ctx, &req).await
    }

    /// A read that must succeed with a body.
    pub async fn read(&self, path: &str) -> Response {
        self.call(Operation::Read, path, json!({}))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{path} read as nothing"))
    }

    pub async fn exists(&self, path: &str) -> bool {
        let req = Request::new(Operation::Update, path);
        self.backend.exists(&self.ctx, &req).await.unwrap() == Some(true)
    }

    pub async fn role_id(&self, role: &str) -> String {
        body(&self.read(&format!("role/{role}/role-id")).await)["role_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Generates a secret id on `role` and returns it.
    pub async fn secret_id(&self, role: &str, data: Value) -> String {
        let resp = self
            .call(Operation::Update, &format!("role/{role}/secret-id"), data)
            .await
            .unwrap()
            .unwrap();
        body(&resp)["secret_id"].as_str().unwrap().to_owned()
    }

    /// Logs in; the grant on success.
    pub async fn login(
        &self,
        role_id: &str,
        secret_id: &str,
        addr: Option<IpAddr>,
    ) -> Result<LoginGrant> {
        let resp = self
            .call_from(
                Operation::Update,
                "login",
                json!({"role_id": role_id, "secret_id": secret_id}),
                addr,
            )
            .await?
            .expect("a successful login answers");
        assert!(resp.auth.is_none() && resp.data.is_none());
        Ok(*resp.login.expect("a successful login carries a grant"))
    }

    /// Advances the clock by whole seconds.
    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    /// Keys stored under `prefix` inside the mount, recursively.
    pub async fn keys_under(&self, prefix: &str) -> Vec<String> {
        list_recursive(&self.ctx.storage, &Prefix::new(prefix).unwrap())
            .await
            .unwrap()
    }

    /// Every key and value in the whole physical store.
    pub async fn everything(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for k in list_recursive(&*self.mem, &Prefix::root()).await.unwrap() {
            let key = coffer_storage::Key::new(k.clone()).unwrap();
            let value = self.mem.get(&key).await.unwrap().unwrap_or_default();
            out.push((k, value));
        }
        out
    }
}

/// The response's `data` as a JSON value (`null` when absent).
pub(crate) fn body(resp: &Response) -> Value {
    resp.data.clone().map(Value::Object).unwrap_or(Value::Null)
}
