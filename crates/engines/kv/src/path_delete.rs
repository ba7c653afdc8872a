//! `delete/:path`, `undelete/:path` and `destroy/:path`: change the state of
//! chosen versions.

use coffer_sdk::{Call, FieldData, FieldDef, FieldType, PathDef};
use coffer_types::{Operation, Response, Result};
use serde_json::Value;

use crate::kv2_store;
use crate::{KvError, KvV2};

const DELETE_FIELDS: &[FieldDef] = &[FieldDef::new(
    "versions",
    FieldType::Any,
    "The versions to be archived. The versioned data will not be deleted, but it will no longer be returned in normal get requests.",
).required()];

const UNDELETE_FIELDS: &[FieldDef] = &[FieldDef::new(
    "versions",
    FieldType::Any,
    "The versions to unarchive. The versions will be restored and their data will be returned on normal get requests.",
).required()];

const DESTROY_FIELDS: &[FieldDef] = &[FieldDef::new(
    "versions",
    FieldType::Any,
    "The versions to destroy. Their data will be permanently deleted.",
)
.required()];

const UPDATE: &[Operation] = &[Operation::Update];

/// The declaration of `delete/:path`.
pub(crate) fn delete_definition() -> PathDef {
    PathDef {
        pattern: "delete/*path",
        fields: DELETE_FIELDS,
        operations: UPDATE,
        existence_check: false,
        synopsis: "Marks one or more versions as deleted in the KV store.",
        description: "Deletes the data for the provided version and path in the key-value store. The versioned data will not be fully removed, but marked as deleted and will no longer be returned in normal get requests. This operation can be undone.",
    }
}

/// The declaration of `undelete/:path`.
pub(crate) fn undelete_definition() -> PathDef {
    PathDef {
        pattern: "undelete/*path",
        fields: UNDELETE_FIELDS,
        operations: UPDATE,
        existence_check: false,
        synopsis: "Undeletes one or more versions from the KV store.",
        description: "Undeletes the data for the provided version and path in the key-value store. This restores the data, allowing it to be returned on get requests.",
    }
}

/// The declaration of `destroy/:path`.
pub(crate) fn destroy_definition() -> PathDef {
    PathDef {
        pattern: "destroy/*path",
        fields: DESTROY_FIELDS,
        operations: UPDATE,
        existence_check: false,
        synopsis: "Permanently removes one or more versions in the KV store",
        description: "Permanently removes the specified version data for the provided key and version numbers from the key-value store.",
    }
}

const BAD_VERSIONS: KvError = KvError::InvalidField {
    field: "versions",
    reason: "expected a list of integers",
};

fn int_of(value: &Value) -> Result<i64, KvError> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            })
            .ok_or(BAD_VERSIONS),
        Value::String(s) => s.trim().parse().map_err(|_| BAD_VERSIONS),
        _ => Err(BAD_VERSIONS),
    }
}

/// `versions` as Vault's `TypeCommaIntSlice`: a list of integers, a
/// comma-separated string, or one integer. Non-positive numbers name no version.
fn versions(fields: &FieldData<'_>) -> Result<Vec<u64>, KvError> {
    let ints: Vec<i64> = match fields.raw("versions") {
        None => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(|_| BAD_VERSIONS))
            .collect::<Result<_, _>>()?,
        Some(Value::Array(items)) => items.iter().map(int_of).collect::<Result<_, _>>()?,
        Some(v @ Value::Number(_)) => vec![int_of(v)?],
        Some(_) => return Err(BAD_VERSIONS),
    };
    Ok(ints
        .into_iter()
        .filter_map(|i| u64::try_from(i).ok())
        .collect())
}

/// Whether a versions list was given at all (`[0]` or `[-1]` count as given).
fn versions_given(fields: &FieldData<'_>) -> Result<bool, KvError> {
    Ok(match fields.raw("versions") {
        None => false,
        Some(Value::String(s)) => s.split(',').any(|p| !p.trim().is_empty()),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    })
}

fn parse_versions(fields: &FieldData<'_>, missing: KvError) -> Result<Vec<u64>, KvError> {
    let list = versions(fields)?;
    if !versions_given(fields)? {
        return Err(missing);
    }
    Ok(list)
}

/// `POST delete/:path`: soft-deletes the listed versions.
pub(crate) async fn delete_versions(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    let list = parse_versions(fields, KvError::NoVersionNumber)?;
    if path.is_empty() {
        return Ok(None);
    }
    let _guard = env.locks.lock(path).await;
    let Some(mut meta) = kv2_store::load_meta(env, path).await? else {
        return Ok(None);
    };
    let now = env.now();
    for n in list {
        if let Some(vm) = meta.versions.get_mut(&n).filter(|vm| !vm.is_gone(now)) {
            vm.deletion_time = Some(now);
        }
    }
    kv2_store::commit(env, vec![kv2_store::put_meta(path, &meta)?]).await?;
    Ok(None)
}

/// `POST undelete/:path`: restores the listed versions (not destroyed ones),
/// rescheduling their deletion if `delete_version_after` applies.
pub(crate) async fn undelete_versions(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    let list = parse_versions(fields, KvError::NoVersionNumber)?;
    if path.is_empty() {
        return Ok(None);
    }
    let config = kv2_store::load_config(env).await?;
    let _guard = env.locks.lock(path).await;
    let Some(mut meta) = kv2_store::load_meta(env, path).await? else {
        return Ok(None);
    };
    let rescheduled = kv2_store::scheduled_deletion(&config, &meta, env.now());
    for n in list {
        if let Some(vm) = meta.versions.get_mut(&n).filter(|vm| !vm.destroyed) {
            vm.deletion_time = rescheduled;
        }
    }
    kv2_store::commit(env, vec![kv2_store::put_meta(path, &meta)?]).await?;
    Ok(None)
}

/// `POST destroy/:path`: marks the listed versions destroyed and removes
/// their data for good.
pub(crate) async fn destroy_versions(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    let list = parse_versions(fields, KvError::NoVersionNumberToDestroy)?;
    if path.is_empty() {
        return Ok(None);
    }
    let _guard = env.locks.lock(path).await;
    let Some(mut meta) = kv2_store::load_meta(env, path).await? else {
        return Ok(None);
    };
    let mut ops = Vec::new();
    for n in list {
        if let Some(vm) = meta.versions.get_mut(&n) {
            vm.destroyed = true;
            ops.push(kv2_store::delete_version(path, n)?);
        }
    }
    ops.push(kv2_store::put_meta(path, &meta)?);
    kv2_store::commit(env, ops).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::KvV2;
    use crate::test_support::{Harness, START, body};
    use coffer_storage::{Key, Storage};
    use coffer_types::Operation;
    use serde_json::json;

    async fn three_versions(h: &Harness, kv: &KvV2) {
        for i in 1..=3 {
            h.call(kv, Operation::Update, "data/app", json!({"data": {"v": i}}))
                .await
                .unwrap();
        }
    }

    async fn read_version(h: &Harness, kv: &KvV2, v: u64) -> coffer_types::Response {
        h.call(
            kv,
            Operation::Read,
            "data/app",
            json!({"version": v.to_string()}),
        )
        .await
        .unwrap()
        .unwrap()
    }

    #[tokio::test]
    async fn delete_then_undelete_versions() {
        let h = Harness::new();
        let kv = KvV2::new();
        three_versions(&h, &kv).await;
        h.advance(5);
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "delete/app",
                json!({"versions": [1, 2]}),
            )
            .await
            .unwrap();
        assert!(resp.is_none());
        for v in [1, 2] {
            let resp = read_version(&h, &kv, v).await;
            assert_eq!(resp.status, Some(404));
            assert_eq!(body(&resp)["data"], json!(null));
            assert_eq!(
                body(&resp)["metadata"]["deletion_time"],
                "2023-11-14T22:13:25.123456789Z"
            );
            assert_eq!(body(&resp)["metadata"]["destroyed"], false);
        }
        assert_eq!(read_version(&h, &kv, 3).await.status, None);

        h.call(
            &kv,
            Operation::Update,
            "undelete/app",
            json!({"versions": "1"}),
        )
        .await
        .unwrap();
        let resp = read_version(&h, &kv, 1).await;
        assert_eq!(resp.status, None);
        assert_eq!(body(&resp)["data"], json!({"v": 1}));
        assert_eq!(body(&resp)["metadata"]["deletion_time"], "");
        assert_eq!(read_version(&h, &kv, 2).await.status, Some(404));
    }

    #[tokio::test]
    async fn destroy_is_permanent() {
        let h = Harness::new();
        let kv = KvV2::new();
        three_versions(&h, &kv).await;
        h.call(
            &kv,
            Operation::Update,
            "destroy/app",
            json!({"versions": "2,3"}),
        )
        .await
        .unwrap();
        let resp = read_version(&h, &kv, 2).await;
        assert_eq!(resp.status, Some(404));
        assert_eq!(
            body(&resp),
            json!({"data": null, "metadata": {"created_time": START, "custom_metadata": null,
                   "deletion_time": "", "destroyed": true, "version": 2}})
        );
        assert!(
            h.ctx
                .storage
                .get(&Key::new("versions/app/2").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            h.ctx
                .storage
                .get(&Key::new("versions/app/1").unwrap())
                .await
                .unwrap()
                .is_some()
        );
        // Undelete cannot bring a destroyed version back; delete leaves it destroyed.
        h.call(
            &kv,
            Operation::Update,
            "undelete/app",
            json!({"versions": [2]}),
        )
        .await
        .unwrap();
        h.call(
            &kv,
            Operation::Update,
            "delete/app",
            json!({"versions": [2]}),
        )
        .await
        .unwrap();
        let resp = read_version(&h, &kv, 2).await;
        assert_eq!(resp.status, Some(404));
        assert_eq!(body(&resp)["metadata"]["destroyed"], true);
        assert_eq!(body(&resp)["metadata"]["deletion_time"], "");
        // The latest (destroyed) version answers 404 too; soft delete is a no-op.
        assert_eq!(
            h.call(&kv, Operation::Read, "data/app", json!({}))
                .await
                .unwrap()
                .unwrap()
                .status,
            Some(404)
        );
        assert!(
            h.call(&kv, Operation::Delete, "data/app", json!({}))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn versions_are_required_and_typed() {
        let h = Harness::new();
        let kv = KvV2::new();
        three_versions(&h, &kv).await;
        for (path, msg) in [
            ("delete/app", "No version number provided"),
            ("undelete/app", "No version number provided"),
            ("destroy/app", "no version number provided"),
        ] {
            for empty in [json!({}), json!({"versions": []}), json!({"versions": ""})] {
                let err = h
                    .call(&kv, Operation::Update, path, empty)
                    .await
                    .unwrap_err();
                assert_eq!((err.status(), err.messages()[0].as_str()), (400, msg));
            }
            let err = h
                .call(&kv, Operation::Update, path, json!({"versions": ["one"]}))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400);
            assert!(err.messages()[0].contains("versions"));
            let err = h
                .call(&kv, Operation::Update, path, json!({"versions": {"a": 1}}))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400);
        }
        // Unknown keys and versions are silently ignored, as in Vault.
        assert!(
            h.call(
                &kv,
                Operation::Update,
                "delete/none",
                json!({"versions": [1]})
            )
            .await
            .unwrap()
            .is_none()
        );
        assert!(
            h.call(
                &kv,
                Operation::Update,
                "destroy/app",
                json!({"versions": [99, -1]})
            )
            .await
            .unwrap()
            .is_none()
        );
        assert_eq!(read_version(&h, &kv, 3).await.status, None);
        let err = h
            .call(
                &kv,
                Operation::Update,
                "destroy/a/../app",
                json!({"versions": [1]}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let err = h
            .call(&kv, Operation::Read, "delete/app", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }

    #[tokio::test]
    async fn undelete_reschedules_with_delete_version_after() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(
            &kv,
            Operation::Update,
            "data/app",
            json!({"data": {"v": 1}}),
        )
        .await
        .unwrap();
        h.call(
            &kv,
            Operation::Update,
            "delete/app",
            json!({"versions": [1]}),
        )
        .await
        .unwrap();
        h.call(
            &kv,
            Operation::Update,
            "config",
            json!({"delete_version_after": "1h"}),
        )
        .await
        .unwrap();
        h.advance(60);
        h.call(
            &kv,
            Operation::Update,
            "undelete/app",
            json!({"versions": [1]}),
        )
        .await
        .unwrap();
        let resp = read_version(&h, &kv, 1).await;
        assert_eq!(resp.status, None);
        assert_eq!(
            body(&resp)["metadata"]["deletion_time"],
            "2023-11-14T23:14:20.123456789Z"
        );
        h.advance(3600);
        assert_eq!(read_version(&h, &kv, 1).await.status, Some(404));
    }
}
