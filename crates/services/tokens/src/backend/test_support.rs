//! Test harness: the sdk's harness with the token backend mounted at
//! `auth/token/`, its store beside it in the same physical storage, and a
//! root token to call with.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use coffer_sdk::testing;
use coffer_types::{Operation, Response, Result, Sensitive};
use serde_json::{Map, Value};

use super::TokenBackend;
use crate::{TokenStore, TtlLimits};

/// A backend over a fresh memory store, with the clock and a root token.
pub(crate) struct Harness {
    pub t: testing::Harness,
    pub backend: TokenBackend,
    pub root: Sensitive,
}

impl Deref for Harness {
    type Target = testing::Harness;
    fn deref(&self) -> &testing::Harness {
        &self.t
    }
}

impl Harness {
    pub(crate) async fn new() -> Self {
        let t = testing::Harness::builder()
            .mount_path("auth/token/")
            .prefix("auth/token-mount/")
            .build();
        let limits = TtlLimits {
            default_ttl: Duration::from_secs(3600),
            max_ttl: Duration::from_secs(10 * 3600),
        };
        let store = Arc::new(TokenStore::new(
            t.view_at("sys/token/"),
            t.clock.clone(),
            limits,
        ));
        let (root, _) = store.create_root_token(None).await.unwrap();
        Self {
            t,
            backend: TokenBackend::new(store),
            root,
        }
    }

    pub(crate) async fn call(
        &self,
        op: Operation,
        path: &str,
        token: &Sensitive,
        body: Value,
    ) -> Result<Option<Response>> {
        self.t
            .call_with_token(&self.backend, op, path, token, body)
            .await
    }

    /// Creates a token through the API and returns it.
    pub(crate) async fn create(&self, parent: &Sensitive, body: Value) -> Sensitive {
        let resp = self
            .call(Operation::Update, "create", parent, body)
            .await
            .unwrap()
            .unwrap();
        Sensitive::new(resp.auth.unwrap().client_token)
    }

    pub(crate) fn data(resp: Option<Response>) -> Map<String, Value> {
        resp.and_then(|r| r.data).unwrap_or_default()
    }
}
