//! Test harness: the sdk's harness with the identity store and backend
//! mounted, and two known auth mounts.

use std::ops::Deref;
use std::sync::Arc;

use coffer_sdk::testing;
use coffer_types::{Operation, Response, Result};
use serde_json::Value;

use crate::{IdentityBackend, IdentityStore, MountResolver};

/// The accessor of the test's userpass mount.
pub(crate) const USERPASS: &str = "auth_userpass_1a2b3c4d";
/// The accessor of the test's approle mount.
pub(crate) const APPROLE: &str = "auth_approle_5e6f7a8b";

/// The sdk harness with the identity backend mounted at `identity/`, and
/// the store behind it (loaded from the same view).
pub(crate) struct Harness {
    pub t: testing::Harness,
    pub store: Arc<IdentityStore>,
    pub backend: IdentityBackend,
}

impl Deref for Harness {
    type Target = testing::Harness;
    fn deref(&self) -> &testing::Harness {
        &self.t
    }
}

pub(crate) fn resolver() -> MountResolver {
    Arc::new(|accessor: &str| match accessor {
        USERPASS => Some(("userpass".to_owned(), "auth/userpass/".to_owned())),
        APPROLE => Some(("approle".to_owned(), "auth/approle/".to_owned())),
        _ => None,
    })
}

impl Harness {
    pub async fn new() -> Self {
        Self::over(testing::Harness::builder()).await
    }

    /// A fresh store and backend loaded from the same storage.
    pub async fn reload(&self) -> Self {
        Self::over(
            testing::Harness::builder()
                .physical(self.physical.clone())
                .clock(self.clock.clone()),
        )
        .await
    }

    async fn over(builder: testing::HarnessBuilder) -> Self {
        let t = builder
            .mount_path("identity/")
            .accessor("identity_0a1b2c3d")
            .prefix("sys/identity/")
            .build();
        let store = Arc::new(
            IdentityStore::load(t.ctx.storage.clone(), t.clock.clone())
                .await
                .expect("store loads"),
        );
        let backend = IdentityBackend::new(store.clone(), resolver());
        Self { t, store, backend }
    }

    pub async fn call(&self, op: Operation, path: &str, data: Value) -> Result<Option<Response>> {
        self.t.call(&self.backend, op, path, data).await
    }

    /// A call that must succeed with a body; returns its `data`.
    pub async fn ok(&self, op: Operation, path: &str, data: Value) -> Value {
        self.t.ok_data(&self.backend, op, path, data).await
    }

    /// A call that must fail; returns (status, message).
    pub async fn err(&self, op: Operation, path: &str, data: Value) -> (u16, String) {
        let e = self.t.err(&self.backend, op, path, data).await;
        (e.status(), e.messages().join("; "))
    }
}
