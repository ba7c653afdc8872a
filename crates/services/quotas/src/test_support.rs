//! Test harness: a manager over in-memory storage and a manual clock.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use coffer_sdk::ManualClock;
use coffer_storage::{MemoryStorage, Prefix, Storage, View};
use coffer_types::{Operation, Request, Response, Result};
use serde_json::Value;

use crate::{QuotaManager, QuotaOptions};

/// A client address `10.0.x.y`.
pub(crate) fn ip(n: u32) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)))
}

pub(crate) struct Harness {
    pub mgr: QuotaManager,
    pub clock: Arc<ManualClock>,
    pub storage: Arc<dyn Storage>,
    options: QuotaOptions,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_options(QuotaOptions::default()).await
    }

    pub async fn with_max_clients(max: usize) -> Self {
        Self::with_options(QuotaOptions::default().with_max_clients(max)).await
    }

    async fn with_options(options: QuotaOptions) -> Self {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let clock = Arc::new(ManualClock::new(coffer_sdk::testing::start()));
        let mgr = QuotaManager::load_with_options(Self::view_of(&storage), clock.clone(), options)
            .await
            .expect("load");
        Self {
            mgr,
            clock,
            storage,
            options,
        }
    }

    fn view_of(storage: &Arc<dyn Storage>) -> View {
        View::new(storage.clone(), Prefix::new("sys/quotas/").unwrap())
    }

    /// A second manager over the same storage, as after a restart.
    pub async fn reload(&self) -> QuotaManager {
        QuotaManager::load_with_options(
            Self::view_of(&self.storage),
            self.clock.clone(),
            self.options,
        )
        .await
        .expect("reload")
    }

    pub async fn call(&self, op: Operation, path: &str, data: Value) -> Result<Option<Response>> {
        let mut req = Request::new(op, format!("sys/{path}"));
        req.data = data.as_object().cloned().expect("test bodies are objects");
        self.mgr.handle_sys(path, &req).await
    }

    pub async fn write(&self, path: &str, data: Value) -> Result<Option<Response>> {
        self.call(Operation::Update, path, data).await
    }

    pub async fn read(&self, path: &str) -> Result<Option<Response>> {
        self.call(Operation::Read, path, Value::Object(Default::default()))
            .await
    }

    pub async fn delete(&self, path: &str) -> Result<Option<Response>> {
        self.call(Operation::Delete, path, Value::Object(Default::default()))
            .await
    }

    pub async fn list(&self, path: &str) -> Result<Option<Response>> {
        self.call(Operation::List, path, Value::Object(Default::default()))
            .await
    }
}

/// The `data` object of a response.
pub(crate) fn body(resp: &Option<Response>) -> Value {
    Value::Object(
        resp.as_ref()
            .and_then(|r| r.data.clone())
            .expect("response has data"),
    )
}
