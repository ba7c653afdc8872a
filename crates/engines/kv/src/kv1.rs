//! KV version 1: a plain key-value store, one JSON object per path.

use coffer_sdk::{Backend, Call, Path, PathDef, PathTable, Routes, handler};
use coffer_storage::Storage;
use coffer_types::duration::parse_duration_value;
use coffer_types::{Error, LeaseInfo, Operation, Response, Result};

use crate::passthrough;

const OPERATIONS: &[Operation] = &[
    Operation::Read,
    Operation::Create,
    Operation::Update,
    Operation::Delete,
    Operation::List,
];

const SYNOPSIS: &str = "Pass-through secret storage to the storage backend, allowing you to\nread/write arbitrary data into secret storage.";

const DESCRIPTION: &str =
    "The pass-through backend reads and writes arbitrary data into secret storage,
encrypting it along the way.

A TTL can be specified when writing with the \"ttl\" field. If given, the
duration of leases returned by this backend will be set to this value. This
can be used as a hint from the writer of a secret to the consumer of a secret
that the consumer should re-read the value before the TTL has expired.
However, any revocation must be handled by the user of this backend; the lease
duration does not affect the provided data in any way.";

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

/// The KV version 1 secrets engine (Vault's pass-through backend without
/// leases). A read carries the advisory TTL (`ttl` or `lease` in the data,
/// else the mount's default lease TTL) in [`Response::secret`] with an empty
/// lease id: the core must show it as `lease_duration` without registering
/// a lease, as Vault does for `kv` mounts.
#[derive(Debug)]
pub struct KvV1 {
    table: PathTable<KvV1>,
}

impl KvV1 {
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

impl Default for KvV1 {
    fn default() -> Self {
        Self::new()
    }
}

async fn read(_: &KvV1, call: &Call<'_>) -> Result<Option<Response>> {
    let Some(key) = passthrough::entry_key("", call.capture("path"))? else {
        return Err(Error::not_found());
    };
    let Some(data) = passthrough::read(&call.ctx.storage, &key).await? else {
        return Err(Error::not_found());
    };
    let ttl_raw = data.get("ttl").or_else(|| data.get("lease"));
    let ttl = ttl_raw
        .and_then(|v| parse_duration_value(v).ok())
        .unwrap_or(call.ctx.config.default_lease_ttl);
    Ok(Some(Response {
        data: Some(data),
        secret: Some(LeaseInfo {
            lease_id: String::new(),
            ttl,
            renewable: false,
            ..LeaseInfo::default()
        }),
        ..Response::default()
    }))
}

/// Create and update: the whole body becomes the entry.
async fn write(_: &KvV1, call: &Call<'_>) -> Result<Option<Response>> {
    let key = passthrough::write_key("", call.capture("path"))?;
    passthrough::write(&call.ctx.storage, &key, &call.req.data).await?;
    Ok(None)
}

async fn delete(_: &KvV1, call: &Call<'_>) -> Result<Option<Response>> {
    if let Some(key) = passthrough::entry_key("", call.capture("path"))? {
        call.ctx.storage.delete(&key).await?;
    }
    Ok(None)
}

async fn list(_: &KvV1, call: &Call<'_>) -> Result<Option<Response>> {
    let prefix = passthrough::list_prefix("", call.capture("path"))?;
    Response::list(call.ctx.storage.list(&prefix).await?)
}

/// Whether an entry exists at the path (a malformed path names none).
async fn exists(_: &KvV1, call: &Call<'_>) -> Result<bool> {
    let key = passthrough::entry_key("", call.capture("path"))
        .ok()
        .flatten();
    Ok(passthrough::exists(&call.ctx.storage, key.as_ref()).await?)
}

impl Backend for KvV1 {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, body};
    use coffer_types::Request;
    use serde_json::json;
    use std::time::Duration;

    #[tokio::test]
    async fn write_read_delete_round_trip() {
        let h = Harness::new();
        let kv = KvV1::new();
        let resp = h
            .call(
                &kv,
                Operation::Create,
                "app/db",
                json!({"user": "u", "n": 5}),
            )
            .await
            .unwrap();
        assert!(resp.is_none(), "write answers 204");
        let resp = h
            .call(&kv, Operation::Read, "app/db", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"user": "u", "n": 5}));
        let lease = resp.secret.unwrap();
        assert_eq!(lease.lease_id, "");
        assert!(!lease.renewable);
        assert_eq!(lease.ttl, Duration::from_secs(768 * 3600));

        // Update replaces the whole entry.
        h.call(&kv, Operation::Update, "app/db", json!({"other": true}))
            .await
            .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "app/db", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"other": true}));

        assert!(
            h.call(&kv, Operation::Delete, "app/db", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        let err = h
            .call(&kv, Operation::Read, "app/db", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        assert!(err.messages().is_empty());
        // Deleting what is not there is fine.
        assert!(
            h.call(&kv, Operation::Delete, "app/db", json!({}))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn ttl_field_sets_advisory_lease_duration() {
        let h = Harness::new();
        let kv = KvV1::new();
        h.call(
            &kv,
            Operation::Update,
            "a",
            json!({"foo": "bar", "ttl": "1h"}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "a", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.secret.unwrap().ttl, Duration::from_secs(3600));
        h.call(&kv, Operation::Update, "b", json!({"lease": 90}))
            .await
            .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "b", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.secret.unwrap().ttl, Duration::from_secs(90));
        h.call(&kv, Operation::Update, "c", json!({"ttl": "soon"}))
            .await
            .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "c", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.secret.unwrap().ttl, Duration::from_secs(768 * 3600));
    }

    #[tokio::test]
    async fn list_shows_leaves_and_folders_and_404s_when_empty() {
        let h = Harness::new();
        let kv = KvV1::new();
        assert_eq!(
            h.call(&kv, Operation::List, "", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        h.call(&kv, Operation::Update, "foo", json!({"a": 1}))
            .await
            .unwrap();
        h.call(&kv, Operation::Update, "foo/bar", json!({"a": 1}))
            .await
            .unwrap();
        h.call(&kv, Operation::Update, "foo/baz/qux", json!({"a": 1}))
            .await
            .unwrap();
        let resp = h
            .call(&kv, Operation::List, "", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"keys": ["foo", "foo/"]}));
        for path in ["foo", "foo/"] {
            let resp = h
                .call(&kv, Operation::List, path, json!({}))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(body(&resp), json!({"keys": ["bar", "baz/"]}));
        }
        assert_eq!(
            h.call(&kv, Operation::List, "nothing/", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
    }

    #[tokio::test]
    async fn existence_check_reports_the_key() {
        let h = Harness::new();
        let kv = KvV1::new();
        let req = Request::new(Operation::Update, "x/y");
        assert_eq!(kv.exists(&h.ctx, &req).await.unwrap(), Some(false));
        h.call(&kv, Operation::Create, "x/y", json!({"v": 1}))
            .await
            .unwrap();
        assert_eq!(kv.exists(&h.ctx, &req).await.unwrap(), Some(true));
        let folder = Request::new(Operation::Update, "x/");
        assert_eq!(kv.exists(&h.ctx, &folder).await.unwrap(), Some(false));
    }

    #[tokio::test]
    async fn bad_input_is_400_and_changes_nothing() {
        let h = Harness::new();
        let kv = KvV1::new();
        let err = h
            .call(&kv, Operation::Update, "a", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (400, "missing data fields")
        );
        let err = h
            .call(&kv, Operation::Update, "", json!({"a": 1}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (400, "missing path")
        );
        for bad in ["a/../b", "../etc", "a//b", "a/./b", "a\0b"] {
            let err = h
                .call(&kv, Operation::Update, bad, json!({"a": 1}))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "write {bad:?}");
            let err = h
                .call(&kv, Operation::Read, bad, json!({}))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "read {bad:?}");
        }
        assert_eq!(
            h.call(&kv, Operation::List, "", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        let err = h
            .call(&kv, Operation::Patch, "a", json!({"a": 1}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }

    #[tokio::test]
    async fn help_describes_the_path() {
        let h = Harness::new();
        let kv = KvV1::new();
        let resp = h
            .call(&kv, Operation::Help, "anything", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert!(
            body(&resp)["help"]
                .as_str()
                .unwrap()
                .contains("pass-through backend")
        );
    }

    #[test]
    fn declares_one_path_taking_arbitrary_input() {
        let kv = KvV1::new();
        let paths = kv.paths();
        assert_eq!(paths.len(), 1);
        let def = paths[0];
        assert_eq!(def.pattern, "*path");
        assert_eq!(def.operations, OPERATIONS);
        assert!(def.existence_check);
        assert!(def.fields.is_empty(), "the body is the secret: no fields");
        let special = kv.special_paths();
        assert!(special.unauthenticated.is_empty() && special.root.is_empty());
    }
}
