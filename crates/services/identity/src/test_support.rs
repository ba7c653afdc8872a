//! Test harness: an identity store and backend over in-memory storage, a
//! manual clock and two known auth mounts.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use coffer_sdk::{Backend, Context, ManualClock, MountConfig};
use coffer_storage::{MemoryStorage, Prefix, Storage, View};
use coffer_types::{Operation, Request, Response, Result};
use serde_json::Value;

use crate::{IdentityBackend, IdentityStore, MountResolver};

/// The accessor of the test's userpass mount.
pub(crate) const USERPASS: &str = "auth_userpass_1a2b3c4d";
/// The accessor of the test's approle mount.
pub(crate) const APPROLE: &str = "auth_approle_5e6f7a8b";

pub(crate) struct Harness {
    pub mem: Arc<dyn Storage>,
    pub clock: Arc<ManualClock>,
    pub store: Arc<IdentityStore>,
    pub backend: IdentityBackend,
    pub ctx: Context,
}

pub(crate) fn resolver() -> MountResolver {
    Arc::new(|accessor: &str| match accessor {
        USERPASS => Some(("userpass".to_owned(), "auth/userpass/".to_owned())),
        APPROLE => Some(("approle".to_owned(), "auth/approle/".to_owned())),
        _ => None,
    })
}

fn view(mem: &Arc<dyn Storage>) -> View {
    View::new(
        mem.clone(),
        Prefix::new("sys/identity/").expect("valid prefix"),
    )
}

impl Harness {
    pub async fn new() -> Self {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
        ));
        Self::over(mem, clock).await
    }

    /// A fresh store and backend loaded from the same storage.
    pub async fn reload(&self) -> Self {
        Self::over(self.mem.clone(), self.clock.clone()).await
    }

    async fn over(mem: Arc<dyn Storage>, clock: Arc<ManualClock>) -> Self {
        let store = Arc::new(
            IdentityStore::load(view(&mem), clock.clone())
                .await
                .expect("store loads"),
        );
        let backend = IdentityBackend::new(store.clone(), resolver());
        let ctx = Context {
            storage: view(&mem),
            config: MountConfig {
                path: "identity/".into(),
                accessor: "identity_0a1b2c3d".into(),
                ..MountConfig::default()
            },
            clock: clock.clone(),
            services: coffer_sdk::Services::default(),
        };
        Self {
            mem,
            clock,
            store,
            backend,
            ctx,
        }
    }

    pub async fn call(&self, op: Operation, path: &str, data: Value) -> Result<Option<Response>> {
        let mut req = Request::new(op, path);
        req.data = data.as_object().cloned().expect("test bodies are objects");
        self.backend.handle(&self.ctx, &req).await
    }

    /// A call that must succeed with a body; returns its `data`.
    pub async fn ok(&self, op: Operation, path: &str, data: Value) -> Value {
        let resp = self
            .call(op, path, data)
            .await
            .unwrap_or_else(|e| panic!("{op} {path}: {e}"))
            .unwrap_or_else(|| panic!("{op} {path}: no body"));
        resp.data.map(Value::Object).unwrap_or(Value::Null)
    }

    /// A call that must fail; returns (status, message).
    pub async fn err(&self, op: Operation, path: &str, data: Value) -> (u16, String) {
        match self.call(op, path, data).await {
            Ok(_) => panic!("{op} {path}: succeeded"),
            Err(e) => (e.status(), e.messages().join("; ")),
        }
    }

    /// Advances the clock by whole seconds.
    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}
