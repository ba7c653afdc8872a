//! Test harness: the sdk's harness with the AppRole backend mounted, and
//! helpers for role ids, secret ids and logins.

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use coffer_sdk::storage::MemoryStorage;
use coffer_sdk::testing;
use coffer_types::{LoginGrant, Operation, Response, Result};
use serde_json::{Value, json};

use crate::AppRole;

/// The sdk harness with an AppRole backend mounted at `auth/approle/`.
pub(crate) struct Harness {
    pub t: testing::Harness,
    pub backend: AppRole,
    /// The physical store (the harness's), for scans of every stored byte.
    pub mem: Arc<MemoryStorage>,
}

impl Deref for Harness {
    type Target = testing::Harness;
    fn deref(&self) -> &testing::Harness {
        &self.t
    }
}

impl Harness {
    /// A mount at `auth/approle/` whose clock reads 2023-11-14T22:13:20.123456789Z.
    pub fn new() -> Self {
        let t = testing::Harness::builder()
            .mount_path("auth/approle/")
            .accessor("auth_approle_test")
            .prefix("auth/test-mount/")
            .build();
        Self {
            mem: t.physical.clone(),
            t,
            backend: AppRole::new(),
        }
    }

    pub async fn call(&self, op: Operation, path: &str, data: Value) -> Result<Option<Response>> {
        self.t.call(&self.backend, op, path, data).await
    }

    pub async fn call_from(
        &self,
        op: Operation,
        path: &str,
        data: Value,
        addr: Option<IpAddr>,
    ) -> Result<Option<Response>> {
        self.t.call_from(&self.backend, op, path, data, addr).await
    }

    /// A read that must succeed with a body.
    pub async fn read(&self, path: &str) -> Response {
        self.call(Operation::Read, path, json!({}))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{path} read as nothing"))
    }

    pub async fn exists(&self, path: &str) -> bool {
        self.t.exists(&self.backend, path).await.unwrap() == Some(true)
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

    /// Every key and value in the whole physical store.
    pub async fn everything(&self) -> Vec<(String, Vec<u8>)> {
        self.t.stored().await
    }
}

pub(crate) use testing::data as body;
