//! Test harness: a backend context over in-memory storage and a manual clock.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use coffer_sdk::{Backend, Context, ManualClock, MountConfig};
use coffer_storage::{MemoryStorage, Prefix, Storage, View};
use coffer_types::{Operation, Request, Response, Result};
use serde_json::Value;

/// The instant every test clock starts at: 2023-11-14T22:13:20.123456789Z.
pub(crate) const START: &str = "2023-11-14T22:13:20.123456789Z";

pub(crate) struct Harness {
    pub ctx: Context,
    pub clock: Arc<ManualClock>,
}

impl Harness {
    pub fn new() -> Self {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let storage = View::new(mem, Prefix::new("logical/test-mount/").unwrap());
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
        ));
        let ctx = Context {
            storage,
            config: MountConfig {
                path: "secret/".into(),
                accessor: "kv_test".into(),
                default_lease_ttl: Duration::from_secs(768 * 3600),
                max_lease_ttl: Duration::from_secs(768 * 3600),
                options: serde_json::Map::new(),
            },
            clock: clock.clone(),
            services: coffer_sdk::Services::default(),
        };
        Self { ctx, clock }
    }

    pub async fn call(
        &self,
        b: &dyn Backend,
        op: Operation,
        path: &str,
        data: Value,
    ) -> Result<Option<Response>> {
        self.scoped(b, op, path, data, None).await
    }

    pub async fn scoped(
        &self,
        b: &dyn Backend,
        op: Operation,
        path: &str,
        data: Value,
        scope: Option<&str>,
    ) -> Result<Option<Response>> {
        let mut req = Request::new(op, path);
        req.data = data.as_object().cloned().expect("test bodies are objects");
        req.token_scope = scope.map(str::to_owned);
        b.handle(&self.ctx, &req).await
    }

    /// Advances the clock by whole seconds.
    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}

/// The response's `data` as a JSON value (`null` when absent).
pub(crate) fn body(resp: &Response) -> Value {
    resp.data.clone().map(Value::Object).unwrap_or(Value::Null)
}
