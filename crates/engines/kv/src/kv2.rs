//! KV version 2: versioned secrets. This file declares the path table and
//! routes each request to its path family (`path_*.rs`).

use async_trait::async_trait;
use coffer_sdk::{Backend, Clock, Context, FieldData, PathDef, RouteTable};
use coffer_storage::View;
use coffer_types::timestamp::Timestamp;
use coffer_types::{Error, Operation, Request, Response, Result};

use crate::kv2_store::{self, KeyLocks, Kv2Cache};
use crate::{path_config, path_data, path_delete, path_metadata, path_subkeys};

/// Which path family a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Config,
    Data,
    Metadata,
    Delete,
    Undelete,
    Destroy,
    Subkeys,
    Invalid,
}

/// What the path handlers get: the mount's storage, the clock, and the
/// per-key write locks.
pub(crate) struct Env<'a> {
    pub storage: &'a View,
    pub clock: &'a dyn Clock,
    pub locks: &'a KeyLocks,
    /// Decoded config and key metadata of this mount.
    pub cache: &'a Kv2Cache,
}

impl Env<'_> {
    /// Now, by the server clock.
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::from_system(self.clock.now())
    }
}

const ALL_OPERATIONS: &[Operation] = &[
    Operation::Read,
    Operation::Create,
    Operation::Update,
    Operation::Patch,
    Operation::Delete,
    Operation::List,
];

const BACKEND_HELP: &str =
    "This backend provides a versioned key-value store. The kv backend reads and
writes arbitrary secrets to the storage backend. The secrets are
encrypted/decrypted by Vault: they are never stored unencrypted in the backend
and the backend never has an opportunity to see the unencrypted value. Each key
can have a configured number of versions, and versions can be retrieved based on
their version numbers.";

/// The paths below the mount whose non-LIST use Vault answers with a warning.
const ROOTS: &[&str] = &["metadata", "data", "delete", "undelete", "destroy"];

/// The KV version 2 secrets engine (Vault's versioned KV).
#[derive(Debug)]
pub struct KvV2 {
    table: RouteTable<Route>,
    locks: KeyLocks,
    cache: Kv2Cache,
}

impl KvV2 {
    /// The engine with its path table.
    pub fn new() -> Self {
        Self {
            table: RouteTable::new(vec![
                (path_config::definition(), Route::Config),
                (path_data::definition(), Route::Data),
                (path_metadata::definition(), Route::Metadata),
                (path_delete::delete_definition(), Route::Delete),
                (path_delete::undelete_definition(), Route::Undelete),
                (path_delete::destroy_definition(), Route::Destroy),
                (path_subkeys::definition(), Route::Subkeys),
                (
                    PathDef {
                        pattern: "*path",
                        fields: &[],
                        operations: ALL_OPERATIONS,
                        existence_check: false,
                        synopsis: "Invalid path for a versioned K/V secrets engine.",
                        description: BACKEND_HELP,
                    },
                    Route::Invalid,
                ),
            ]),
            locks: KeyLocks::new(),
            cache: Kv2Cache::new(),
        }
    }
}

impl KvV2 {
    /// What the path handlers of one request get.
    fn env<'a>(&'a self, ctx: &'a Context) -> Env<'a> {
        Env {
            storage: &ctx.storage,
            clock: &*ctx.clock,
            locks: &self.locks,
            cache: &self.cache,
        }
    }
}

impl Default for KvV2 {
    fn default() -> Self {
        Self::new()
    }
}

/// A 404 that carries a warning instead of an error, as Vault answers.
fn not_found_with_warning(warning: String) -> Response {
    Response {
        warnings: vec![warning],
        status: Some(404),
        ..Response::default()
    }
}

fn invalid_path(op: Operation) -> Response {
    let sub = match op {
        Operation::Create | Operation::Update => "put",
        Operation::Patch => "patch",
        Operation::Read | Operation::Help => "get",
        Operation::List => "list",
        Operation::Delete => "delete",
    };
    not_found_with_warning(format!(
        "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv {sub}' for this operation."
    ))
}

/// `data/` takes a secret path that is non-empty and does not end in `/`.
fn is_bad_data_path(route: Route, path: &str) -> bool {
    route == Route::Data && (path.is_empty() || path.ends_with('/'))
}

#[async_trait]
impl Backend for KvV2 {
    fn paths(&self) -> Vec<&coffer_sdk::PathDef> {
        self.table.declarations().collect()
    }

    async fn handle(&self, ctx: &Context, req: &Request) -> Result<Option<Response>> {
        let op = req.op();
        if op == Operation::Help {
            return self.table.help(&req.path).map(Some);
        }
        if op != Operation::List && ROOTS.contains(&req.path.as_str()) {
            return Ok(Some(not_found_with_warning(
                "Non-listing operations on the root of a K/V v2 mount are not supported.".into(),
            )));
        }
        let matched = self.table.route(&req.path)?;
        let path = matched.captures.get("path");
        if matched.route == Route::Invalid || is_bad_data_path(matched.route, path) {
            return Ok(Some(invalid_path(op)));
        }
        matched.require_operation(op)?;
        let fields = FieldData::new(&req.data, matched.def.fields)?;
        let env = self.env(ctx);
        match matched.route {
            Route::Config => path_config::handle(&env, op, &fields).await,
            Route::Data => path_data::handle(&env, op, path, &fields).await,
            Route::Metadata => path_metadata::handle(&env, op, path, &fields).await,
            Route::Delete => path_delete::delete_versions(&env, path, &fields).await,
            Route::Undelete => path_delete::undelete_versions(&env, path, &fields).await,
            Route::Destroy => path_delete::destroy_versions(&env, path, &fields).await,
            Route::Subkeys => path_subkeys::read(&env, path, &fields).await,
            Route::Invalid => Ok(Some(invalid_path(op))),
        }
    }

    async fn exists(&self, ctx: &Context, req: &Request) -> Result<Option<bool>> {
        let Some(matched) = self.table.matches(&req.path) else {
            return Ok(None);
        };
        if !matches!(matched.route, Route::Data | Route::Metadata) {
            return Ok(None);
        }
        let path = matched.captures.get("path");
        if path.is_empty() || kv2_store::meta_key(path).is_err() {
            return Ok(Some(false));
        }
        Ok(Some(
            kv2_store::load_meta_shared(&self.env(ctx), path)
                .await?
                .is_some(),
        ))
    }
}

/// Fails with 405 for operations a handler does not implement (the table
/// already refuses undeclared ones; this keeps every `match` total).
pub(crate) fn unsupported() -> Error {
    Error::unsupported("unsupported operation")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, body};
    use serde_json::json;

    #[tokio::test]
    async fn unknown_and_root_paths_are_404_with_a_warning() {
        let h = Harness::new();
        let kv = KvV2::new();
        let resp = h
            .call(&kv, Operation::Read, "foo", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(404));
        assert!(resp.warnings[0].contains("'vault kv get'"));
        let resp = h
            .call(&kv, Operation::Update, "foo/bar", json!({"a": 1}))
            .await
            .unwrap()
            .unwrap();
        assert!(resp.warnings[0].contains("'vault kv put'"));
        for root in ROOTS {
            let resp = h
                .call(&kv, Operation::Read, root, json!({}))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(resp.status, Some(404));
            assert_eq!(
                resp.warnings,
                ["Non-listing operations on the root of a K/V v2 mount are not supported."]
            );
        }
        for bad in ["data/", "data/foo/"] {
            let resp = h
                .call(&kv, Operation::Read, bad, json!({}))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(resp.status, Some(404), "{bad}");
            assert!(resp.data.is_none());
        }
        // Declared path, undeclared operation.
        let err = h
            .call(&kv, Operation::List, "data/foo", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        let err = h
            .call(&kv, Operation::Delete, "config", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }

    #[tokio::test]
    async fn help_comes_from_the_declarations() {
        let h = Harness::new();
        let kv = KvV2::new();
        let resp = h
            .call(&kv, Operation::Help, "data/foo", json!({}))
            .await
            .unwrap()
            .unwrap();
        let text = body(&resp)["help"].as_str().unwrap().to_owned();
        assert!(text.contains("options"), "{text}");
        let resp = h
            .call(&kv, Operation::Help, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert!(
            body(&resp)["help"]
                .as_str()
                .unwrap()
                .contains("max_versions")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_to_one_key_each_get_a_version() {
        let h = Harness::new();
        let kv = std::sync::Arc::new(KvV2::new());
        let mut tasks = Vec::new();
        for i in 0..24 {
            let (kv, ctx) = (kv.clone(), h.ctx.clone());
            tasks.push(tokio::spawn(async move {
                let mut req = Request::new(Operation::Update, "data/shared");
                req.data = json!({"data": {"i": i}}).as_object().unwrap().clone();
                kv.handle(&ctx, &req).await.unwrap().unwrap()
            }));
        }
        let mut versions = Vec::new();
        for t in tasks {
            versions.push(body(&t.await.unwrap())["version"].as_u64().unwrap());
        }
        versions.sort_unstable();
        assert_eq!(versions, (1..=24).collect::<Vec<_>>());
        let resp = h
            .call(&*kv, Operation::Read, "metadata/shared", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["current_version"], 24);
        assert_eq!(body(&resp)["versions"].as_object().unwrap().len(), 10);
    }

    #[tokio::test]
    async fn existence_check_covers_data_and_metadata() {
        let h = Harness::new();
        let kv = KvV2::new();
        let data = Request::new(Operation::Update, "data/app");
        let meta = Request::new(Operation::Update, "metadata/app");
        assert_eq!(kv.exists(&h.ctx, &data).await.unwrap(), Some(false));
        assert_eq!(kv.exists(&h.ctx, &meta).await.unwrap(), Some(false));
        h.call(
            &kv,
            Operation::Create,
            "data/app",
            json!({"data": {"a": 1}}),
        )
        .await
        .unwrap();
        assert_eq!(kv.exists(&h.ctx, &data).await.unwrap(), Some(true));
        assert_eq!(kv.exists(&h.ctx, &meta).await.unwrap(), Some(true));
        let config = Request::new(Operation::Update, "config");
        assert_eq!(kv.exists(&h.ctx, &config).await.unwrap(), None);
        let bad = Request::new(Operation::Update, "data/a/../b");
        assert_eq!(kv.exists(&h.ctx, &bad).await.unwrap(), Some(false));
    }
}
