//! `sys/policies/acl/*` and the legacy `sys/policy/*`: the ACL policy
//! endpoints, as a `sys/` piece. [`PoliciesPiece`] is a
//! [`coffer_sdk::Backend`] over a path table declared relative to `sys/`
//! (Vault's fields and help), answering from the core's [`PolicyStore`]; its
//! existence functions split policy writes into create and update for the
//! ACL, as Vault's do.

use crate::error::CoreError;
use std::sync::{Arc, LazyLock};

use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value, json};

use crate::policy_store::{PolicyStore, ROOT_POLICY};

/// The ACL policy endpoints over the core's policy store.
pub(crate) struct PoliciesPiece {
    store: Arc<PolicyStore>,
}

impl PoliciesPiece {
    /// The piece answering from `store`.
    pub(crate) fn new(store: Arc<PolicyStore>) -> Self {
        Self { store }
    }
}

const NAME: FieldDef = FieldDef::new(
    "name",
    FieldType::String,
    "The name of the policy. Example: \"ops\"",
);

const POLICY_FIELDS: &[FieldDef] = &[
    NAME,
    FieldDef::new(
        "policy",
        FieldType::String,
        "The rules of the policy, in HCL or JSON (plain or base64-encoded).",
    ),
];

const LEGACY_POLICY_FIELDS: &[FieldDef] = &[
    NAME,
    FieldDef::new(
        "rules",
        FieldType::String,
        "The rules of the policy (deprecated; use \"policy\").",
    ),
    FieldDef::new(
        "policy",
        FieldType::String,
        "The rules of the policy, in HCL or JSON (plain or base64-encoded).",
    ),
];

const LIST_SYNOPSIS: &str = "List the configured access control policies.";
const LIST_DESCRIPTION: &str = "Lists the names of the configured access control policies. \
     Policies are attached to client tokens to limit what they can reach.";
const POLICY_SYNOPSIS: &str = "Read, Modify, or Delete an access control policy.";
const POLICY_DESCRIPTION: &str = "Reads the rules of an existing policy, creates or updates \
     the rules of a policy, or deletes a policy.";

/// The piece's paths, relative to `sys/`. The name captures the rest of the
/// path, as Vault's `(?P<name>.+)`, so a name with a `/` reaches the store
/// (and its refusal) rather than falling through to a 404.
static TABLE: LazyLock<PathTable<PoliciesPiece>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(PathDef {
            pattern: "policies/acl",
            fields: &[],
            operations: &[Operation::List],
            existence_check: false,
            synopsis: LIST_SYNOPSIS,
            description: LIST_DESCRIPTION,
        })
        .list(handler!(list)),
        Path::new(PathDef {
            pattern: "policies/acl/*name",
            fields: POLICY_FIELDS,
            operations: &[Operation::Read, Operation::Update, Operation::Delete],
            existence_check: true,
            synopsis: POLICY_SYNOPSIS,
            description: POLICY_DESCRIPTION,
        })
        .read(handler!(read))
        .update(handler!(write))
        .delete(handler!(delete))
        .existence(handler!(exists)),
        Path::new(PathDef {
            pattern: "policy",
            fields: &[],
            operations: &[Operation::Read, Operation::List],
            existence_check: false,
            synopsis: LIST_SYNOPSIS,
            description: LIST_DESCRIPTION,
        })
        .read(handler!(legacy_list))
        .list(handler!(legacy_list)),
        Path::new(PathDef {
            pattern: "policy/*name",
            fields: LEGACY_POLICY_FIELDS,
            operations: &[Operation::Read, Operation::Update, Operation::Delete],
            existence_check: true,
            synopsis: POLICY_SYNOPSIS,
            description: POLICY_DESCRIPTION,
        })
        .read(handler!(read))
        .update(handler!(write))
        .delete(handler!(delete))
        .existence(handler!(exists)),
    ])
});

/// Whether the request is on the legacy `sys/policy/` path, which names the
/// policy text `rules` and accepts `rules` on writes.
fn legacy(call: &Call<'_>) -> bool {
    call.req.relative_path.starts_with("policy/")
}

/// `policies/acl` (list): `{keys}`.
async fn list(piece: &PoliciesPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(piece.store.names())
}

/// `policy` (read or list): `{policies, keys}`, as Vault's legacy listing.
async fn legacy_list(piece: &PoliciesPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    let names = piece.store.names();
    Response::from_serialize(&json!({ "policies": names, "keys": names })).map(Some)
}

/// `policies/acl/:name` and `policy/:name` (read): `{name, policy}` (legacy:
/// `{name, rules}`); `root` reads with empty rules; 404 for an unknown name.
async fn read(piece: &PoliciesPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let text_field = if legacy(call) { "rules" } else { "policy" };
    let name = call.capture("name").to_ascii_lowercase();
    let text = if name == ROOT_POLICY {
        String::new()
    } else {
        piece
            .store
            .get(&name)
            .ok_or_else(Error::not_found)?
            .raw()
            .to_owned()
    };
    let mut map = Map::new();
    map.insert("name".into(), json!(name));
    map.insert(text_field.into(), Value::String(text));
    Ok(Some(Response::with_data(map)))
}

/// `policies/acl/:name` and `policy/:name` (create/update): stores the policy
/// (`policy`, or on the legacy path `rules`, plain or base64); 204.
async fn write(piece: &PoliciesPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let text = policy_text(call)?;
    piece.store.set(call.capture("name"), &text).await?;
    Ok(None)
}

/// `policies/acl/:name` and `policy/:name` (delete): 204; `root` and
/// `default` are refused by the store.
async fn delete(piece: &PoliciesPiece, call: &Call<'_>) -> Result<Option<Response>> {
    piece.store.delete(call.capture("name")).await?;
    Ok(None)
}

/// Whether the policy a write names exists (create or update for the ACL).
async fn exists(piece: &PoliciesPiece, call: &Call<'_>) -> Result<bool> {
    Ok(piece.store.get(call.capture("name")).is_some())
}

/// The policy text from a write: `policy` (on the legacy path, `rules` when
/// `policy` is absent), plain or base64.
fn policy_text(call: &Call<'_>) -> Result<String> {
    let raw = match call.fields.get_string("policy")? {
        Some(text) => Some(text),
        None if legacy(call) => call.fields.get_string("rules")?,
        None => None,
    }
    .unwrap_or_default();
    if raw.trim().is_empty() {
        return Err(CoreError::PolicyMissing.into());
    }
    use base64::Engine as _;
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(raw.trim())
        && let Ok(text) = String::from_utf8(decoded)
    {
        return Ok(text);
    }
    Ok(raw)
}

impl Backend for PoliciesPiece {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use coffer_sdk::{Context, MountConfig, Services, SystemClock};
    use coffer_storage::{MemoryStorage, Prefix, Storage, View};
    use coffer_types::{ErrorKind, Request};

    use crate::{Core, CoreConfig};

    /// The piece over a fresh store, and a context for it.
    async fn piece() -> (PoliciesPiece, Context) {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let store = PolicyStore::load(View::new(mem.clone(), Prefix::new("sys/policy/").unwrap()))
            .await
            .unwrap();
        store.ensure_builtin().await.unwrap();
        let ctx = Context {
            storage: View::new(mem, Prefix::new("sys/").unwrap()),
            config: MountConfig::default(),
            clock: Arc::new(SystemClock),
            services: Services::default(),
        };
        (PoliciesPiece::new(Arc::new(store)), ctx)
    }

    fn request(op: Operation, path: &str, body: Value) -> Request {
        Request::new(op, path).with_data(body.as_object().cloned().unwrap_or_default())
    }

    fn data(resp: Option<Response>) -> Value {
        Value::Object(resp.expect("a body").data.unwrap_or_default())
    }

    #[test]
    fn the_paths_are_vaults() {
        let defs = TABLE.declarations();
        let shape: Vec<(&str, Vec<&str>, Vec<Operation>, bool)> = defs
            .iter()
            .map(|d| {
                (
                    d.pattern,
                    d.fields.iter().map(|f| f.name).collect(),
                    d.operations.to_vec(),
                    d.existence_check,
                )
            })
            .collect();
        use Operation::{Delete, List, Read, Update};
        assert_eq!(
            shape,
            [
                ("policies/acl", vec![], vec![List], false),
                (
                    "policies/acl/*name",
                    vec!["name", "policy"],
                    vec![Read, Update, Delete],
                    true
                ),
                ("policy", vec![], vec![Read, List], false),
                (
                    "policy/*name",
                    vec!["name", "rules", "policy"],
                    vec![Read, Update, Delete],
                    true
                ),
            ]
        );
        for d in &defs {
            assert!(d.fields.iter().all(|f| f.kind == FieldType::String));
            assert!(!d.synopsis.is_empty() && !d.description.is_empty());
        }
        // Nothing here is sudo or unauthenticated.
        let special = TABLE.special_paths();
        assert!(special.root.is_empty() && special.unauthenticated.is_empty());
        // The declarations claim exactly the policy paths in the assembly.
        let declares = |p: &str| defs.iter().any(|d| d.matches(p));
        for p in [
            "policies/acl",
            "policies/acl/",
            "policies/acl/ops",
            "policies/acl/a/b",
            "policy",
            "policy/",
            "policy/ops",
        ] {
            assert!(declares(p), "{p}");
        }
        for p in ["policies", "policies/password/x", "policiesx", "policyx/a"] {
            assert!(!declares(p), "{p}");
        }
    }

    #[tokio::test]
    async fn existence_splits_writes_on_both_named_paths() {
        let (piece, ctx) = piece().await;
        let exists = |path: &'static str| {
            let req = request(Operation::Update, path, Value::Null);
            let piece = &piece;
            let ctx = &ctx;
            async move { piece.exists(ctx, &req).await.unwrap() }
        };
        assert_eq!(exists("policies/acl/ops").await, Some(false));
        assert_eq!(exists("policy/ops").await, Some(false));
        // `default` is written at load; names are case-insensitive.
        assert_eq!(exists("policies/acl/default").await, Some(true));
        assert_eq!(exists("policy/DEFAULT").await, Some(true));
        piece
            .handle(
                &ctx,
                &request(
                    Operation::Update,
                    "policies/acl/ops",
                    json!({"policy": "path \"secret/*\" { capabilities = [\"read\"] }"}),
                ),
            )
            .await
            .unwrap();
        assert_eq!(exists("policies/acl/ops").await, Some(true));
        assert_eq!(exists("policy/ops").await, Some(true));
        // The list paths have no existence check.
        assert_eq!(exists("policies/acl").await, None);
        assert_eq!(exists("policy").await, None);
        assert_eq!(exists("policy/").await, None);
    }

    #[tokio::test]
    async fn the_handlers_answer_as_before() {
        let (piece, ctx) = piece().await;
        let call = |op: Operation, path: &'static str, body: Value| {
            let piece = &piece;
            let ctx = &ctx;
            async move { piece.handle(ctx, &request(op, path, body)).await }
        };
        let rules = "path \"secret/*\" { capabilities = [\"read\"] }";
        // Legacy write with `rules`, read on both paths under their names.
        assert!(
            call(Operation::Update, "policy/Ops", json!({"rules": rules}))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            data(
                call(Operation::Read, "policies/acl/ops", json!({}))
                    .await
                    .unwrap()
            ),
            json!({"name": "ops", "policy": rules})
        );
        assert_eq!(
            data(
                call(Operation::Read, "policy/ops", json!({}))
                    .await
                    .unwrap()
            ),
            json!({"name": "ops", "rules": rules})
        );
        // A base64 policy is decoded.
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(rules);
        call(
            Operation::Update,
            "policies/acl/b64",
            json!({"policy": encoded}),
        )
        .await
        .unwrap();
        assert_eq!(
            data(
                call(Operation::Read, "policies/acl/b64", json!({}))
                    .await
                    .unwrap()
            )["policy"],
            rules
        );
        // Lists: `keys` on the ACL path, `keys` and `policies` on the legacy one.
        let names = json!(["b64", "default", "ops", "root"]);
        assert_eq!(
            data(
                call(Operation::List, "policies/acl", json!({}))
                    .await
                    .unwrap()
            ),
            json!({"keys": names})
        );
        for op in [Operation::Read, Operation::List] {
            assert_eq!(
                data(call(op, "policy", json!({})).await.unwrap()),
                json!({"keys": names, "policies": names})
            );
        }
        // `root` reads with empty rules; an unknown name is a 404.
        assert_eq!(
            data(
                call(Operation::Read, "policy/root", json!({}))
                    .await
                    .unwrap()
            ),
            json!({"name": "root", "rules": ""})
        );
        let e = call(Operation::Read, "policies/acl/nope", json!({}))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        // `rules` is the legacy path's only: the ACL path ignores it, as
        // Vault's does, and says the policy is missing.
        let e = call(Operation::Update, "policies/acl/x", json!({"rules": rules}))
            .await
            .unwrap_err();
        assert_eq!(e.messages(), ["'policy' parameter not supplied or empty"]);
        for body in [json!({}), json!({"policy": "  "})] {
            let e = call(Operation::Update, "policy/x", body).await.unwrap_err();
            assert_eq!(e.messages(), ["'policy' parameter not supplied or empty"]);
        }
        let e = call(
            Operation::Update,
            "policies/acl/x",
            json!({"policy": ["a"]}),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        // The store's refusals, with their messages.
        let e = call(
            Operation::Update,
            "policies/acl/root",
            json!({"policy": rules}),
        )
        .await
        .unwrap_err();
        assert_eq!(e.messages(), ["cannot update \"root\" policy"]);
        let e = call(Operation::Delete, "policy/default", json!({}))
            .await
            .unwrap_err();
        assert_eq!(e.messages(), ["cannot delete default policy"]);
        let e = call(
            Operation::Update,
            "policies/acl/a/b",
            json!({"policy": rules}),
        )
        .await
        .unwrap_err();
        assert_eq!(e.messages(), ["invalid policy name \"a/b\""]);
        // Operations the paths do not declare are 405s.
        for (op, path) in [
            (Operation::Read, "policies/acl"),
            (Operation::Update, "policy"),
            (Operation::List, "policies/acl/ops"),
        ] {
            let e = call(op, path, json!({})).await.unwrap_err();
            assert_eq!(e.status(), 405, "{op:?} {path}");
        }
        // An unknown field is ignored with Vault's warning.
        let resp = call(
            Operation::Update,
            "policies/acl/ops",
            json!({"policy": rules, "bogus": 1}),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [bogus]"]
        );
        // Delete.
        assert!(
            call(Operation::Delete, "policies/acl/ops", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            call(Operation::Read, "policy/ops", json!({}))
                .await
                .is_err()
        );
    }

    /// Through the core: the existence function makes a write to a new
    /// policy a `create` and to an existing one an `update` for the ACL.
    #[tokio::test]
    async fn the_core_checks_create_and_update_apart() {
        let core = Core::new(Arc::new(MemoryStorage::new()), CoreConfig::default());
        let root = core
            .dev_init(None)
            .await
            .unwrap()
            .root_token
            .expose()
            .to_owned();
        let send = |token: String, op: Operation, path: String, body: Value| {
            let core = core.clone();
            async move {
                core.handle(
                    Request::new(op, path)
                        .with_data(body.as_object().cloned().unwrap_or_default())
                        .with_token(token.as_str()),
                )
                .await
            }
        };
        let policy = |caps: &str| json!({"policy": format!("path \"sys/policies/acl/*\" {{ capabilities = [{caps}] }}\npath \"sys/policy/*\" {{ capabilities = [{caps}] }}")});
        for (name, caps) in [("only-update", "\"update\""), ("only-create", "\"create\"")] {
            send(
                root.clone(),
                Operation::Update,
                format!("sys/policies/acl/{name}"),
                policy(caps),
            )
            .await
            .unwrap();
        }
        let token_for = |policy: &'static str| {
            let send = &send;
            let root = root.clone();
            async move {
                send(
                    root,
                    Operation::Update,
                    "auth/token/create".into(),
                    json!({"policies": [policy]}),
                )
                .await
                .unwrap()
                .auth
                .unwrap()
                .client_token
            }
        };
        let updater = token_for("only-update").await;
        let creator = token_for("only-create").await;
        let text = json!({"policy": "path \"a/*\" { capabilities = [\"read\"] }"});
        for prefix in ["sys/policies/acl/", "sys/policy/"] {
            let fresh = format!("{prefix}fresh-{}", prefix.len());
            // New policy: a create.
            let e = send(
                updater.clone(),
                Operation::Update,
                fresh.clone(),
                text.clone(),
            )
            .await
            .unwrap_err();
            assert_eq!(e.status(), 403, "{fresh}");
            send(
                creator.clone(),
                Operation::Update,
                fresh.clone(),
                text.clone(),
            )
            .await
            .unwrap();
            // Existing policy: an update.
            let e = send(
                creator.clone(),
                Operation::Update,
                fresh.clone(),
                text.clone(),
            )
            .await
            .unwrap_err();
            assert_eq!(e.status(), 403, "{fresh}");
            send(
                updater.clone(),
                Operation::Update,
                fresh.clone(),
                text.clone(),
            )
            .await
            .unwrap();
        }
    }
}
