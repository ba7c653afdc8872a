//! `data/:path`: read a version, write a new one, patch the latest, and
//! soft-delete the latest.

use coffer_sdk::{Call, FieldData, FieldDef, FieldDefault, FieldType, PathDef};
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value};

use crate::kv2::Env;
use crate::kv2_store::{self, Config, KeyMeta};
use crate::{KvError, KvV2};

const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "version",
        FieldType::Int,
        "If provided during a read, the value at the version number will be returned",
    )
    .default(FieldDefault::Int(0)),
    FieldDef::new(
        "options",
        FieldType::Map,
        "Options for writing a KV entry. Set the \"cas\" value to use a Check-And-Set operation. If not set the write will be allowed. If set to 0 a write will only be allowed if the key doesn't exist. If the index is non-zero the write will only be allowed if the key's current version matches the version specified in the cas parameter.",
    ),
    FieldDef::new(
        "data",
        FieldType::Map,
        "The contents of the data map will be stored and returned on read.",
    )
    .required()
    .sensitive(),
];

/// The declaration of `data/:path`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "data/*path",
        fields: FIELDS,
        operations: &[
            Operation::Read,
            Operation::Create,
            Operation::Update,
            Operation::Patch,
            Operation::Delete,
        ],
        existence_check: true,
        synopsis: "Write, Patch, Read, and Delete data in the Key-Value Store.",
        description: "This path takes a key name and based on the operation stores, retrieves or deletes versions of data. Each write creates a new version; a patch applies a JSON merge patch to the latest version; a read returns the latest version unless \"version\" is set; a delete marks the latest version as deleted and can be undone.",
    }
}

/// The version a read asks for: `version` when positive, else the latest.
pub(crate) fn requested_version(fields: &FieldData<'_>, meta: &KeyMeta) -> Result<u64> {
    Ok(match fields.get_int("version")? {
        Some(v) if v > 0 => v.unsigned_abs(),
        _ => meta.current_version,
    })
}

/// A response that Vault sends with status 404 and the metadata in the body.
pub(crate) fn gone(data: Map<String, Value>) -> Response {
    Response {
        data: Some(data),
        status: Some(404),
        ..Response::default()
    }
}

/// `GET data/:path`: a version with its metadata.
pub(crate) async fn read(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    let Some(meta) = kv2_store::load_meta_shared(env, path).await? else {
        return Err(Error::not_found());
    };
    let number = requested_version(fields, &meta)?;
    let Some(vm) = meta.versions.get(&number) else {
        return Err(Error::not_found());
    };
    let mut out = Map::new();
    out.insert("data".into(), Value::Null);
    out.insert(
        "metadata".into(),
        Value::Object(meta.version_json(number, vm)),
    );
    if vm.is_gone(env.now()) {
        return Ok(Some(gone(out)));
    }
    let data = kv2_store::load_version(env.storage, path, number).await?;
    out.insert("data".into(), Value::Object(data));
    Ok(Some(Response::with_data(out)))
}

/// `options.cas`, decoded leniently as Vault's `mapstructure.WeakDecode` does.
fn cas_option(fields: &FieldData<'_>) -> Result<Option<i64>, KvError> {
    let Ok(Some(options)) = fields.get_map("options") else {
        return Ok(None);
    };
    let Some(raw) = options.get("cas") else {
        return Ok(None);
    };
    let cas = match raw {
        Value::Null => 0,
        Value::Bool(b) => i64::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            // Whole-number floats (`1.0`) and the like; truncation is Go's.
            (None, Some(f)) if f.is_finite() && f.abs() < 9.0e18 => f.trunc() as i64,
            _ => return Err(KvError::CasParse),
        },
        Value::String(s) if s.trim().is_empty() => 0,
        Value::String(s) => s.trim().parse().map_err(|_| KvError::CasParse)?,
        Value::Array(_) | Value::Object(_) => return Err(KvError::CasParse),
    };
    Ok(Some(cas))
}

/// Vault's `validateCheckAndSetOption`.
pub(crate) fn check_cas(
    fields: &FieldData<'_>,
    config: &Config,
    meta: &KeyMeta,
) -> Result<(), KvError> {
    match cas_option(fields)? {
        Some(cas) if u64::try_from(cas).ok() != Some(meta.current_version) => {
            Err(KvError::CasMismatch)
        }
        Some(_) => Ok(()),
        None if config.cas_required || meta.cas_required => Err(KvError::CasRequired),
        None => Ok(()),
    }
}

/// Records `data` as a new version of `path`, trims old versions and
/// answers with the new version's metadata.
async fn store_new_version(
    env: &Env<'_>,
    path: &str,
    config: &Config,
    mut meta: KeyMeta,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    let now = env.now();
    let deletion = kv2_store::scheduled_deletion(config, &meta, now);
    let (number, removed) = meta.add_version(now, deletion, config.max_versions);
    let mut ops = vec![
        kv2_store::put_version(path, number, data)?,
        kv2_store::put_meta(path, &meta)?,
    ];
    for old in removed {
        ops.push(kv2_store::delete_version(path, old)?);
    }
    kv2_store::commit(env, ops).await?;
    let vm = meta
        .versions
        .get(&number)
        .ok_or_else(|| Error::internal("new version missing from key metadata"))?;
    Ok(Some(Response::with_data(meta.version_json(number, vm))))
}

/// `POST data/:path`: a new version.
pub(crate) async fn write(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    if path.is_empty() {
        return Err(KvError::MissingPath.into());
    }
    kv2_store::meta_key(path)?;
    let config = kv2_store::load_config(env).await?;
    let Some(data) = fields.get_map("data")? else {
        return Err(KvError::NoDataProvided.into());
    };
    let _guard = env.locks.lock(path).await;
    let meta = kv2_store::load_meta(env, path).await?.unwrap_or_default();
    check_cas(fields, &config, &meta)?;
    store_new_version(env, path, &config, meta, data).await
}

/// `PATCH data/:path`: a new version merged from the latest.
pub(crate) async fn patch(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    let Some(patch) = fields.get_map("data")? else {
        return Err(KvError::NoDataProvided.into());
    };
    let _guard = env.locks.lock(path).await;
    let Some(meta) = kv2_store::load_meta(env, path).await? else {
        return Err(Error::not_found());
    };
    let config = kv2_store::load_config(env).await?;
    check_cas(fields, &config, &meta)?;
    let current = meta.current_version;
    let Some(vm) = meta.versions.get(&current) else {
        return Err(Error::not_found());
    };
    if vm.is_gone(env.now()) {
        // Vault's patch 404 body is the flat version metadata.
        return Ok(Some(gone(meta.version_json(current, vm))));
    }
    let mut doc = Value::Object(kv2_store::load_version(env.storage, path, current).await?);
    json_patch::merge(&mut doc, &Value::Object(patch.clone()));
    let Value::Object(merged) = doc else {
        return Err(Error::internal(
            "merge patch of an object did not yield an object",
        ));
    };
    store_new_version(env, path, &config, meta, &merged).await
}

/// `DELETE data/:path`: soft-deletes the latest version.
pub(crate) async fn delete_latest(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let _guard = env.locks.lock(path).await;
    let Some(mut meta) = kv2_store::load_meta(env, path).await? else {
        return Ok(None);
    };
    let now = env.now();
    let current = meta.current_version;
    let Some(vm) = meta.versions.get_mut(&current) else {
        return Ok(None);
    };
    if vm.is_gone(now) {
        return Ok(None);
    }
    vm.deletion_time = Some(now);
    kv2_store::commit(env, vec![kv2_store::put_meta(path, &meta)?]).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::KvV2;
    use crate::test_support::{Harness, START, body};
    use coffer_storage::{Key, Storage};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn write_answers_version_metadata_and_read_returns_data() {
        let h = Harness::new();
        let kv = KvV2::new();
        let resp = h
            .call(
                &kv,
                Operation::Create,
                "data/my-secret",
                json!({"data": {"foo": "bar", "zip": "zap"}}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, None);
        assert_eq!(
            body(&resp),
            json!({"created_time": START, "custom_metadata": null, "deletion_time": "",
                   "destroyed": false, "version": 1})
        );
        let resp = h
            .call(&kv, Operation::Read, "data/my-secret", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp),
            json!({
                "data": {"foo": "bar", "zip": "zap"},
                "metadata": {"created_time": START, "custom_metadata": null, "deletion_time": "",
                             "destroyed": false, "version": 1}
            })
        );
        assert!(resp.secret.is_none());
    }

    #[tokio::test]
    async fn versions_accumulate_and_can_be_read_by_number() {
        let h = Harness::new();
        let kv = KvV2::new();
        for i in 1..=3 {
            let resp = h
                .call(
                    &kv,
                    Operation::Update,
                    "data/a/b",
                    json!({"data": {"i": i}}),
                )
                .await
                .unwrap()
                .unwrap();
            assert_eq!(body(&resp)["version"], i);
        }
        let resp = h
            .call(&kv, Operation::Read, "data/a/b", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["data"], json!({"i": 3}));
        // Query parameters arrive as strings.
        let resp = h
            .call(&kv, Operation::Read, "data/a/b", json!({"version": "2"}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["data"], json!({"i": 2}));
        assert_eq!(body(&resp)["metadata"]["version"], 2);
        let resp = h
            .call(&kv, Operation::Read, "data/a/b", json!({"version": 0}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["metadata"]["version"], 3);
        let err = h
            .call(&kv, Operation::Read, "data/a/b", json!({"version": 9}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        assert!(err.messages().is_empty());
        assert_eq!(
            h.call(&kv, Operation::Read, "data/none", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
    }

    #[tokio::test]
    async fn max_versions_trims_old_versions_and_their_data() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(&kv, Operation::Update, "config", json!({"max_versions": 2}))
            .await
            .unwrap();
        for i in 1..=4 {
            h.call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"data": {"i": i}}),
            )
            .await
            .unwrap();
        }
        let resp = h
            .call(&kv, Operation::Read, "metadata/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        let b = body(&resp);
        assert_eq!(b["current_version"], 4);
        assert_eq!(b["oldest_version"], 3);
        assert_eq!(
            b["versions"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["3", "4"]
        );
        for v in [1, 2] {
            let err = h
                .call(&kv, Operation::Read, "data/app", json!({"version": v}))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 404);
            let key = Key::new(format!("versions/app/{v}")).unwrap();
            assert!(
                h.ctx.storage.get(&key).await.unwrap().is_none(),
                "version {v} data remains"
            );
        }
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({"version": 3}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["data"], json!({"i": 3}));
    }

    #[tokio::test]
    async fn default_keeps_ten_versions() {
        let h = Harness::new();
        let kv = KvV2::new();
        for i in 1..=12 {
            h.call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"data": {"i": i}}),
            )
            .await
            .unwrap();
        }
        let resp = h
            .call(&kv, Operation::Read, "metadata/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["versions"].as_object().unwrap().len(), 10);
        assert_eq!(body(&resp)["oldest_version"], 3);
    }

    #[tokio::test]
    async fn check_and_set() {
        let h = Harness::new();
        let kv = KvV2::new();
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"options": {"cas": 0}, "data": {"a": 1}}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["version"], 1);
        let err = h
            .call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"options": {"cas": 0}, "data": {"a": 2}}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (
                400,
                "check-and-set parameter did not match the current version"
            )
        );
        let err = h
            .call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"options": {"cas": 2}, "data": {"a": 2}}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let err = h
            .call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"options": {"cas": "x"}, "data": {"a": 2}}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.messages()[0], "error parsing check-and-set parameter");
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"options": {"cas": "1"}, "data": {"a": 2}}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["version"], 2);
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["data"],
            json!({"a": 2}),
            "refused writes stored nothing"
        );
    }

    #[tokio::test]
    async fn cas_required_by_mount_or_key() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(
            &kv,
            Operation::Update,
            "metadata/strict",
            json!({"cas_required": true}),
        )
        .await
        .unwrap();
        let err = h
            .call(
                &kv,
                Operation::Update,
                "data/strict",
                json!({"data": {"a": 1}}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (400, "check-and-set parameter required for this call")
        );
        h.call(
            &kv,
            Operation::Update,
            "data/strict",
            json!({"options": {"cas": 0}, "data": {"a": 1}}),
        )
        .await
        .unwrap();
        // Other keys are unaffected until the mount requires it.
        h.call(
            &kv,
            Operation::Update,
            "data/loose",
            json!({"data": {"a": 1}}),
        )
        .await
        .unwrap();
        h.call(
            &kv,
            Operation::Update,
            "config",
            json!({"cas_required": true}),
        )
        .await
        .unwrap();
        let err = h
            .call(
                &kv,
                Operation::Update,
                "data/loose",
                json!({"data": {"a": 2}}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.messages()[0],
            "check-and-set parameter required for this call"
        );
        let err = h
            .call(
                &kv,
                Operation::Patch,
                "data/loose",
                json!({"data": {"a": 2}}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.messages()[0],
            "check-and-set parameter required for this call"
        );
        h.call(
            &kv,
            Operation::Update,
            "data/loose",
            json!({"options": {"cas": 1}, "data": {"a": 2}}),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn patch_is_a_json_merge_patch_of_the_latest_version() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(
            &kv,
            Operation::Update,
            "data/app",
            json!({"data": {"a": "1", "b": {"c": "2", "d": "3"}, "gone": true}}),
        )
        .await
        .unwrap();
        h.advance(1);
        let resp = h
            .call(
                &kv,
                Operation::Patch,
                "data/app",
                json!({"options": {"cas": 1}, "data": {"b": {"c": null, "e": "4"}, "gone": null, "f": [1]}}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp),
            json!({"created_time": "2023-11-14T22:13:21.123456789Z", "custom_metadata": null,
                   "deletion_time": "", "destroyed": false, "version": 2})
        );
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["data"],
            json!({"a": "1", "b": {"d": "3", "e": "4"}, "f": [1]})
        );
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({"version": 1}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["data"]["gone"], true, "version 1 is untouched");
        let err = h
            .call(
                &kv,
                Operation::Patch,
                "data/app",
                json!({"options": {"cas": 1}, "data": {"x": 1}}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.messages()[0],
            "check-and-set parameter did not match the current version"
        );
    }

    #[tokio::test]
    async fn patch_needs_an_existing_live_latest_version() {
        let h = Harness::new();
        let kv = KvV2::new();
        let err = h
            .call(
                &kv,
                Operation::Patch,
                "data/none",
                json!({"data": {"a": 1}}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        h.call(
            &kv,
            Operation::Update,
            "data/app",
            json!({"data": {"a": 1}}),
        )
        .await
        .unwrap();
        let err = h
            .call(&kv, Operation::Patch, "data/app", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (400, "no data provided")
        );
        h.call(&kv, Operation::Delete, "data/app", json!({}))
            .await
            .unwrap();
        h.advance(1);
        let resp = h
            .call(&kv, Operation::Patch, "data/app", json!({"data": {"a": 2}}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(404));
        assert_eq!(
            body(&resp),
            json!({"created_time": START, "custom_metadata": null,
                   "deletion_time": START, "destroyed": false, "version": 1})
        );
    }

    #[tokio::test]
    async fn delete_soft_deletes_the_latest_version() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(
            &kv,
            Operation::Update,
            "data/app",
            json!({"data": {"a": 1}}),
        )
        .await
        .unwrap();
        h.call(
            &kv,
            Operation::Update,
            "data/app",
            json!({"data": {"a": 2}}),
        )
        .await
        .unwrap();
        h.advance(2);
        assert!(
            h.call(&kv, Operation::Delete, "data/app", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(404));
        assert_eq!(
            body(&resp),
            json!({
                "data": null,
                "metadata": {"created_time": START, "custom_metadata": null,
                             "deletion_time": "2023-11-14T22:13:22.123456789Z", "destroyed": false, "version": 2}
            })
        );
        // Older versions stay readable; deleting again changes nothing.
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({"version": 1}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["data"], json!({"a": 1}));
        h.advance(5);
        h.call(&kv, Operation::Delete, "data/app", json!({}))
            .await
            .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["metadata"]["deletion_time"],
            "2023-11-14T22:13:22.123456789Z"
        );
        // Deleting a missing key is a no-op.
        assert!(
            h.call(&kv, Operation::Delete, "data/none", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        // A new write makes the key readable again.
        h.call(
            &kv,
            Operation::Update,
            "data/app",
            json!({"data": {"a": 3}}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, None);
        assert_eq!(body(&resp)["data"], json!({"a": 3}));
    }

    #[tokio::test]
    async fn delete_version_after_expires_versions_by_the_clock() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(
            &kv,
            Operation::Update,
            "config",
            json!({"delete_version_after": "1h"}),
        )
        .await
        .unwrap();
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"data": {"a": 1}}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["deletion_time"],
            "2023-11-14T23:13:20.123456789Z"
        );
        h.advance(3599);
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (resp.status, body(&resp)["data"].clone()),
            (None, json!({"a": 1}))
        );
        h.advance(1);
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(404));
        assert_eq!(body(&resp)["data"], json!(null));
        assert_eq!(
            body(&resp)["metadata"]["deletion_time"],
            "2023-11-14T23:13:20.123456789Z"
        );

        // The key's shorter setting wins over the mount's.
        h.call(
            &kv,
            Operation::Update,
            "metadata/short",
            json!({"delete_version_after": "10m"}),
        )
        .await
        .unwrap();
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "data/short",
                json!({"data": {"a": 1}}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["deletion_time"],
            "2023-11-14T23:23:20.123456789Z"
        );
        // Disabling it mount-wide stops scheduling deletions.
        h.call(
            &kv,
            Operation::Update,
            "config",
            json!({"delete_version_after": -1}),
        )
        .await
        .unwrap();
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "data/short",
                json!({"data": {"a": 2}}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["deletion_time"], "");
    }

    #[tokio::test]
    async fn bad_input_is_400_and_stores_nothing() {
        let h = Harness::new();
        let kv = KvV2::new();
        for (bad, field) in [
            (json!({"data": "string"}), "data"),
            (json!({"data": [1, 2]}), "data"),
            (json!({"data": {"a": 1}, "options": 5}), "options"),
        ] {
            let err = h
                .call(&kv, Operation::Update, "data/app", bad.clone())
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert!(
                err.messages()[0].contains(field),
                "{bad}: {:?}",
                err.messages()
            );
        }
        for no_data in [json!({}), json!({"foo": "bar"}), json!({"data": null})] {
            let err = h
                .call(&kv, Operation::Update, "data/app", no_data)
                .await
                .unwrap_err();
            assert_eq!(
                (err.status(), err.messages()[0].as_str()),
                (400, "no data provided")
            );
        }
        let err = h
            .call(&kv, Operation::Read, "data/app", json!({"version": "two"}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.messages()[0].contains("version"));
        for traversal in [
            "data/a/../b",
            "data/../config",
            "data/a//b",
            "data/./a",
            "data/a\0b",
        ] {
            let err = h
                .call(&kv, Operation::Update, traversal, json!({"data": {"a": 1}}))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{traversal:?}");
            let err = h
                .call(&kv, Operation::Read, traversal, json!({}))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{traversal:?}");
        }
        assert_eq!(
            h.call(&kv, Operation::List, "metadata/", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
    }
}
