//! Cubbyhole: KV v1 semantics in a private space per token. Entries live at
//! `<token scope>/<path>` in the mount's view; the scope is the stable
//! per-token id the core puts in [`Request::token_scope`], never the token.

use async_trait::async_trait;
use coffer_sdk::{Backend, Call, Context, Path, PathDef, PathTable, Routes, handler};
use coffer_storage::{Key, Prefix, Storage, View, WriteOp, list_recursive};
use coffer_types::{Error, Operation, Response, Result};

use crate::{KvError, passthrough};

const OPERATIONS: &[Operation] = &[
    Operation::Read,
    Operation::Create,
    Operation::Update,
    Operation::Delete,
    Operation::List,
];

const SYNOPSIS: &str = "Pass-through secret storage to a token-specific cubbyhole in the storage\nbackend, allowing you to read/write arbitrary data into secret storage.";

const DESCRIPTION: &str =
    "The cubbyhole backend reads and writes arbitrary data into secret storage,
encrypting it along the way.

The view into the cubbyhole storage space is different for each token; it is
a per-token cubbyhole. When the token is revoked all values are removed.";

/// How many deletes [`destroy_scope`] puts in one atomic batch.
const DESTROY_BATCH: usize = 256;

/// The declaration of the one path family: any path, any body (Vault's
/// `TakesArbitraryInput`), so it declares no fields.
fn definition() -> PathDef {
    PathDef {
        pattern: "*path",
        fields: &[],
        operations: OPERATIONS,
        existence_check: true,
        synopsis: SYNOPSIS,
        description: DESCRIPTION,
    }
}

/// The cubbyhole secrets engine: each token reads and writes only its own
/// entries. Reads carry no lease.
#[derive(Debug)]
pub struct Cubbyhole {
    table: PathTable<Cubbyhole>,
}

impl Cubbyhole {
    /// The engine with its one path family.
    pub fn new() -> Self {
        Self {
            table: PathTable::new(vec![
                Path::new(definition())
                    .read(handler!(read))
                    .update(handler!(write))
                    .delete(handler!(delete))
                    .list(handler!(list))
                    .existence(handler!(exists))
                    .arbitrary_input(),
            ]),
        }
    }
}

impl Default for Cubbyhole {
    fn default() -> Self {
        Self::new()
    }
}

/// The storage base (`<scope>/`) of a token's cubbyhole. The scope must be
/// one non-empty path segment.
fn scope_base(scope: Option<&str>) -> Result<String, KvError> {
    match scope {
        None | Some("") => Err(KvError::ClientTokenEmpty),
        Some(s) if s.contains('/') || Key::new(s).is_err() => Err(KvError::InvalidScope),
        Some(s) => Ok(format!("{s}/")),
    }
}

/// The calling token's storage base.
fn base(call: &Call<'_>) -> Result<String, KvError> {
    scope_base(call.req.token_scope())
}

/// Deletes every entry in the cubbyhole of `scope`: what
/// [`Backend::token_revoked`] does with the cubbyhole mount's view when the
/// token owning `scope` is revoked.
async fn destroy_scope(storage: &View, scope: &str) -> Result<()> {
    let base = scope_base(Some(scope))?;
    let prefix = Prefix::new(base.clone()).map_err(KvError::from)?;
    let keys = list_recursive(storage, &prefix)
        .await
        .map_err(KvError::from)?;
    for chunk in keys.chunks(DESTROY_BATCH) {
        let ops = chunk
            .iter()
            .map(|rel| prefix.join(rel).map(WriteOp::Delete))
            .collect::<Result<Vec<_>, _>>()
            .map_err(KvError::from)?;
        storage.write_batch(ops).await.map_err(KvError::from)?;
    }
    Ok(())
}

async fn read(_: &Cubbyhole, call: &Call<'_>) -> Result<Option<Response>> {
    let Some(key) = passthrough::entry_key(&base(call)?, call.capture("path"))? else {
        return Err(Error::not_found());
    };
    match passthrough::read(&call.ctx.storage, &key).await? {
        Some(data) => Ok(Some(Response::with_data(data))),
        None => Err(Error::not_found()),
    }
}

/// Create and update: the whole body becomes the entry.
async fn write(_: &Cubbyhole, call: &Call<'_>) -> Result<Option<Response>> {
    let key = passthrough::write_key(&base(call)?, call.capture("path"))?;
    passthrough::write(&call.ctx.storage, &key, &call.req.data).await?;
    Ok(None)
}

async fn delete(_: &Cubbyhole, call: &Call<'_>) -> Result<Option<Response>> {
    if let Some(key) = passthrough::entry_key(&base(call)?, call.capture("path"))? {
        call.ctx.storage.delete(&key).await?;
    }
    Ok(None)
}

async fn list(_: &Cubbyhole, call: &Call<'_>) -> Result<Option<Response>> {
    let prefix = passthrough::list_prefix(&base(call)?, call.capture("path"))?;
    Response::list(call.ctx.storage.list(&prefix).await?)
}

/// Whether the calling token has an entry at the path (no scope or a
/// malformed path names none).
async fn exists(_: &Cubbyhole, call: &Call<'_>) -> Result<bool> {
    let Ok(base) = base(call) else {
        return Ok(false);
    };
    let key = passthrough::entry_key(&base, call.capture("path"))
        .ok()
        .flatten();
    Ok(passthrough::exists(&call.ctx.storage, key.as_ref()).await?)
}

#[async_trait]
impl Backend for Cubbyhole {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }

    /// Wipes the revoked token's cubbyhole.
    async fn token_revoked(&self, ctx: &Context, scope_id: &str) -> Result<()> {
        destroy_scope(&ctx.storage, scope_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, body};
    use coffer_types::Request;
    use serde_json::json;

    #[tokio::test]
    async fn each_scope_sees_only_its_own_entries() {
        let h = Harness::new();
        let cb = Cubbyhole::new();
        h.scoped(
            &cb,
            Operation::Create,
            "secret",
            json!({"v": "alice"}),
            Some("alice"),
        )
        .await
        .unwrap();
        h.scoped(
            &cb,
            Operation::Create,
            "dir/x",
            json!({"v": 1}),
            Some("alice"),
        )
        .await
        .unwrap();
        h.scoped(
            &cb,
            Operation::Create,
            "secret",
            json!({"v": "bob"}),
            Some("bob"),
        )
        .await
        .unwrap();

        let resp = h
            .scoped(&cb, Operation::Read, "secret", json!({}), Some("alice"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"v": "alice"}));
        assert!(resp.secret.is_none(), "cubbyhole reads carry no lease");
        let resp = h
            .scoped(&cb, Operation::Read, "secret", json!({}), Some("bob"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"v": "bob"}));
        let err = h
            .scoped(&cb, Operation::Read, "dir/x", json!({}), Some("bob"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);

        let resp = h
            .scoped(&cb, Operation::List, "", json!({}), Some("alice"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"keys": ["dir/", "secret"]}));
        let resp = h
            .scoped(&cb, Operation::List, "", json!({}), Some("bob"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"keys": ["secret"]}));
        let err = h
            .scoped(&cb, Operation::List, "", json!({}), Some("carol"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);

        h.scoped(&cb, Operation::Delete, "secret", json!({}), Some("bob"))
            .await
            .unwrap();
        assert!(
            h.scoped(&cb, Operation::Read, "secret", json!({}), Some("alice"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn revoking_a_token_wipes_its_cubbyhole_only() {
        let h = Harness::new();
        let cb = Cubbyhole::new();
        for path in ["a", "b/c", "b/d/e"] {
            h.scoped(&cb, Operation::Update, path, json!({"k": 1}), Some("alice"))
                .await
                .unwrap();
        }
        h.scoped(&cb, Operation::Update, "a", json!({"k": 2}), Some("bob"))
            .await
            .unwrap();
        cb.token_revoked(&h.ctx, "alice").await.unwrap();
        for path in ["a", "b/c", "b/d/e"] {
            let err = h
                .scoped(&cb, Operation::Read, path, json!({}), Some("alice"))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 404, "{path}");
        }
        assert!(
            h.ctx
                .storage
                .list(&Prefix::new("alice/").unwrap())
                .await
                .unwrap()
                .is_empty()
        );
        let resp = h
            .scoped(&cb, Operation::Read, "a", json!({}), Some("bob"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"k": 2}));
        // Wiping an empty scope is fine; a malformed one is refused.
        cb.token_revoked(&h.ctx, "nobody").await.unwrap();
        assert!(cb.token_revoked(&h.ctx, "a/b").await.is_err());
        assert!(cb.token_revoked(&h.ctx, "").await.is_err());
    }

    #[tokio::test]
    async fn missing_scope_and_bad_input_are_refused() {
        let h = Harness::new();
        let cb = Cubbyhole::new();
        let err = h
            .scoped(&cb, Operation::Read, "a", json!({}), None)
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (400, "client token empty")
        );
        let err = h
            .scoped(&cb, Operation::Update, "a", json!({"x": 1}), Some(""))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let err = h
            .scoped(&cb, Operation::Update, "a", json!({"x": 1}), Some("x/y"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 500);
        let err = h
            .scoped(&cb, Operation::Update, "a", json!({}), Some("alice"))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (400, "missing data fields")
        );
        // A scope cannot be escaped with `..`.
        let err = h
            .scoped(
                &cb,
                Operation::Read,
                "../bob/secret",
                json!({}),
                Some("alice"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[tokio::test]
    async fn existence_check_is_per_scope() {
        let h = Harness::new();
        let cb = Cubbyhole::new();
        h.scoped(&cb, Operation::Create, "k", json!({"v": 1}), Some("alice"))
            .await
            .unwrap();
        let mut req = Request::new(Operation::Update, "k");
        req.caller_mut().scope = Some("alice".into());
        assert_eq!(cb.exists(&h.ctx, &req).await.unwrap(), Some(true));
        req.caller_mut().scope = Some("bob".into());
        assert_eq!(cb.exists(&h.ctx, &req).await.unwrap(), Some(false));
    }

    #[test]
    fn declares_one_path_taking_arbitrary_input() {
        let cb = Cubbyhole::new();
        let paths = cb.paths();
        assert_eq!(paths.len(), 1);
        let def = paths[0];
        assert_eq!(def.pattern, "*path");
        assert_eq!(def.operations, OPERATIONS);
        assert!(def.existence_check);
        assert!(def.fields.is_empty(), "the body is the secret: no fields");
        let special = cb.special_paths();
        assert!(special.unauthenticated.is_empty() && special.root.is_empty());
    }
}
