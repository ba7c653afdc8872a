//! KV version 2: versioned secrets. This file declares the path table (each
//! path family's handlers live in `path_*.rs`) and answers the requests
//! Vault's engine refuses before routing.

use async_trait::async_trait;
use coffer_sdk::{Backend, Call, Clock, Context, Path, PathDef, PathTable, Routes, handler};
use coffer_storage::View;
use coffer_types::timestamp::Timestamp;
use coffer_types::{Operation, Request, Response, Result};

use crate::kv2_store::{self, KeyLocks, Kv2Cache};
use crate::{path_config, path_data, path_delete, path_metadata, path_subkeys};

/// What the path handlers share besides the call: the mount's storage, the
/// clock, and this backend's per-key write locks and cache.
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

/// The catch-all after the real paths: every other path is Vault's "invalid
/// path" 404. It declares no fields and takes any body, since it refuses the
/// request whatever it carries, and it is unpublished (not in the OpenAPI
/// document), as Vault's `pathInvalid` operations are.
fn invalid_definition() -> PathDef {
    PathDef {
        pattern: "*path",
        fields: &[],
        operations: ALL_OPERATIONS,
        existence_check: false,
        synopsis: "Invalid path for a versioned K/V secrets engine.",
        description: BACKEND_HELP,
    }
}

/// The KV version 2 secrets engine (Vault's versioned KV).
#[derive(Debug)]
pub struct KvV2 {
    table: PathTable<KvV2>,
    locks: KeyLocks,
    cache: Kv2Cache,
}

impl KvV2 {
    /// The engine with its path table.
    pub fn new() -> Self {
        Self {
            table: PathTable::new(vec![
                Path::new(path_config::definition())
                    .read(handler!(path_config::read))
                    .update(handler!(path_config::write)),
                Path::new(path_data::definition())
                    .read(handler!(path_data::read))
                    .update(handler!(path_data::write))
                    .patch(handler!(path_data::patch))
                    .delete(handler!(path_data::delete_latest))
                    .existence(handler!(key_exists)),
                Path::new(path_metadata::definition())
                    .read(handler!(path_metadata::read))
                    .update(handler!(path_metadata::write))
                    .patch(handler!(path_metadata::patch))
                    .delete(handler!(path_metadata::delete_all))
                    .list(handler!(path_metadata::list))
                    .existence(handler!(key_exists)),
                Path::new(path_delete::delete_definition())
                    .update(handler!(path_delete::delete_versions)),
                Path::new(path_delete::undelete_definition())
                    .update(handler!(path_delete::undelete_versions)),
                Path::new(path_delete::destroy_definition())
                    .update(handler!(path_delete::destroy_versions)),
                Path::new(path_subkeys::definition()).read(handler!(path_subkeys::read)),
                Path::new(invalid_definition())
                    .read(handler!(invalid_path))
                    .update(handler!(invalid_path))
                    .patch(handler!(invalid_path))
                    .delete(handler!(invalid_path))
                    .list(handler!(invalid_path))
                    .arbitrary_input()
                    .unpublished(),
            ]),
            locks: KeyLocks::new(),
            cache: Kv2Cache::new(),
        }
    }

    /// What the path handlers of one request share.
    pub(crate) fn env<'a>(&'a self, ctx: &'a Context) -> Env<'a> {
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

fn invalid_path_response(op: Operation) -> Response {
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

/// Every operation on a path no declaration covers.
async fn invalid_path(_: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    Ok(Some(invalid_path_response(call.op)))
}

/// What Vault's engine answers before routing (help aside): a non-LIST
/// operation on a root (`data`, `metadata`, ...), and any operation on a
/// `data/` path that names no secret (empty, or ending in `/`), are 404s
/// with a warning.
fn refused_before_routing(req: &Request) -> Option<Response> {
    let op = req.op();
    if op == Operation::Help {
        return None;
    }
    if op != Operation::List && ROOTS.contains(&req.relative_path.as_str()) {
        return Some(not_found_with_warning(
            "Non-listing operations on the root of a K/V v2 mount are not supported.".into(),
        ));
    }
    let no_secret = req.relative_path == "data"
        || req
            .relative_path
            .strip_prefix("data/")
            .is_some_and(|p| p.is_empty() || p.ends_with('/'));
    no_secret.then(|| invalid_path_response(op))
}

/// The existence check of `data/` and `metadata/`: whether the key has
/// metadata (a malformed path names no key).
async fn key_exists(b: &KvV2, call: &Call<'_>) -> Result<bool> {
    let path = call.capture("path");
    if path.is_empty() || kv2_store::meta_key(path).is_err() {
        return Ok(false);
    }
    Ok(kv2_store::load_meta_shared(&b.env(call.ctx), path)
        .await?
        .is_some())
}

#[async_trait]
impl Backend for KvV2 {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }

    async fn handle(&self, ctx: &Context, req: &Request) -> Result<Option<Response>> {
        if let Some(resp) = refused_before_routing(req) {
            return Ok(Some(resp));
        }
        self.table.dispatch(self, ctx, req).await
    }
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

    #[test]
    fn declarations_are_vaults_paths() {
        use Operation::*;
        let kv = KvV2::new();
        let names = |def: &PathDef| def.fields.iter().map(|f| f.name).collect::<Vec<_>>();
        let got: Vec<_> = kv
            .paths()
            .into_iter()
            .map(|d| (d.pattern, d.operations, d.existence_check, names(d)))
            .collect();
        let want: Vec<(&str, &[Operation], bool, Vec<&str>)> = vec![
            (
                "config",
                &[Read, Update],
                false,
                vec!["max_versions", "cas_required", "delete_version_after"],
            ),
            (
                "data/*path",
                &[Read, Create, Update, Patch, Delete],
                true,
                vec!["version", "options", "data"],
            ),
            (
                "metadata/*path",
                &[Read, Create, Update, Patch, Delete, List],
                true,
                vec![
                    "cas_required",
                    "max_versions",
                    "delete_version_after",
                    "custom_metadata",
                ],
            ),
            ("delete/*path", &[Update], false, vec!["versions"]),
            ("undelete/*path", &[Update], false, vec!["versions"]),
            ("destroy/*path", &[Update], false, vec!["versions"]),
            ("subkeys/*path", &[Read], false, vec!["depth", "version"]),
            ("*path", ALL_OPERATIONS, false, vec![]),
        ];
        assert_eq!(got, want);
        // The catch-all is dispatched but not published.
        let published: Vec<_> = kv.published_paths().iter().map(|d| d.pattern).collect();
        assert_eq!(published.len(), want.len() - 1);
        assert!(!published.contains(&"*path"), "{published:?}");
        let data = kv.paths()[1].fields.iter().find(|f| f.name == "data");
        assert!(data.is_some_and(|f| f.sensitive && f.required));
        let special = kv.special_paths();
        assert!(special.unauthenticated.is_empty() && special.root.is_empty());
    }

    #[tokio::test]
    async fn unknown_fields_are_a_warning_except_on_invalid_paths() {
        let h = Harness::new();
        let kv = KvV2::new();
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "config",
                json!({"max_versions": 3, "zeta": 1, "alpha": 2}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [alpha zeta]"]
        );
        let resp = h
            .call(&kv, Operation::Read, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["max_versions"], 3);
        assert!(resp.warnings.is_empty());
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"data": {"a": 1}, "extra": true}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["version"], 1);
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [extra]"]
        );
        let resp = h
            .call(&kv, Operation::Update, "nowhere", json!({"extra": true}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.warnings.len(), 1, "{:?}", resp.warnings);
    }
}
