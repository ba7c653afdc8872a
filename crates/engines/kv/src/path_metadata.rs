//! `metadata/:path`: read, write, patch and delete a secret's metadata (and
//! with it every version), and list secrets.

use std::collections::BTreeMap;

use coffer_sdk::{Call, FieldData, FieldDef, FieldDefault, FieldType, PathDef};
use coffer_storage::{Storage, WriteOp};
use coffer_types::timestamp::rfc3339_or_empty;
use coffer_types::{Error, Operation, Response, Result, format_duration};
use serde_json::{Map, Value};

use crate::kv2_store::{self, KeyMeta};
use crate::path_config::max_versions;
use crate::{KvError, KvV2};

const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "cas_required",
        FieldType::Bool,
        "If true the key will require the cas parameter to be set on all write requests. If false, the backend's configuration will be used.",
    ).default(FieldDefault::Bool(false)),
    FieldDef::new(
        "max_versions",
        FieldType::Int,
        "The number of versions to keep. If not set, the backend's configured max version is used.",
    ).default(FieldDefault::Int(0)),
    FieldDef::new(
        "delete_version_after",
        FieldType::Duration,
        "The length of time before a version is deleted. If not set, the backend's configured delete_version_after is used. Cannot be greater than the backend's delete_version_after. A zero duration clears the current setting. A negative duration will cause an error.",
    ).default(FieldDefault::Str("0s")),
    FieldDef::new(
        "custom_metadata",
        FieldType::Map,
        "User-provided key-value pairs that are used to describe arbitrary and version-agnostic information about a secret.",
    ),
];

/// The declaration of `metadata/:path`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "metadata/*path",
        fields: FIELDS,
        operations: &[
            Operation::Read,
            Operation::Create,
            Operation::Update,
            Operation::Patch,
            Operation::Delete,
            Operation::List,
        ],
        existence_check: true,
        synopsis: "Allows interaction with key metadata and settings in the KV store.",
        description: "This endpoint allows for reading, information about a key in the key-value store, writing key settings, and permanently deleting a key and all versions.",
    }
}

const MAX_CUSTOM_METADATA_KEYS: usize = 64;
const MAX_CUSTOM_METADATA_KEY_LENGTH: usize = 128;
const MAX_CUSTOM_METADATA_VALUE_LENGTH: usize = 512;
const CUSTOM_METADATA_PREFIX: &str = "custom_metadata validation failed";

/// Go's `unicode.IsPrint`, near enough: no control or non-space whitespace.
fn printable(s: &str) -> bool {
    s.chars()
        .all(|c| c == ' ' || !(c.is_control() || c.is_whitespace()))
}

/// go-multierror's list format, which Vault's messages carry.
fn multierror(errors: &[String]) -> String {
    if let [only] = errors {
        return format!("1 error occurred:\n\t* {only}\n\n");
    }
    let points: Vec<String> = errors.iter().map(|e| format!("* {e}")).collect();
    format!(
        "{} errors occurred:\n\t{}\n\n",
        errors.len(),
        points.join("\n\t")
    )
}

/// Vault's `validateCustomMetadata`.
fn validate_custom_metadata(cm: &BTreeMap<String, String>) -> Result<(), KvError> {
    if cm.len() > MAX_CUSTOM_METADATA_KEYS {
        return Err(KvError::CustomMetadata(multierror(&[format!(
            "{CUSTOM_METADATA_PREFIX}: payload must contain at most {MAX_CUSTOM_METADATA_KEYS} keys, provided {}",
            cm.len()
        )])));
    }
    let mut errors = Vec::new();
    for (key, value) in cm {
        let key_len = key.len();
        if key_len == 0 || key_len > MAX_CUSTOM_METADATA_KEY_LENGTH {
            errors.push(format!(
                "{CUSTOM_METADATA_PREFIX}: length of key {key:?} is {key_len} but must be 0 < len(key) <= {MAX_CUSTOM_METADATA_KEY_LENGTH}"
            ));
        }
        let value_len = value.len();
        if value_len == 0 || value_len > MAX_CUSTOM_METADATA_VALUE_LENGTH {
            errors.push(format!(
                "{CUSTOM_METADATA_PREFIX}: length of value for key {key:?} is {value_len} but must be 0 < len(value) <= {MAX_CUSTOM_METADATA_VALUE_LENGTH}"
            ));
        }
        if !printable(key) {
            errors.push(format!(
                "{CUSTOM_METADATA_PREFIX}: key {key:?} ({key}) contains unprintable characters"
            ));
        }
        if !printable(value) {
            errors.push(format!(
                "{CUSTOM_METADATA_PREFIX}: value for key {key:?} contains unprintable characters"
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(KvError::CustomMetadata(multierror(&errors)))
    }
}

/// One custom metadata value as a string, decoded leniently as Vault does.
fn weak_string(key: &str, value: &Value) -> Result<String, KvError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(if *b { "1" } else { "0" }.to_owned()),
        Value::Null => Ok(String::new()),
        Value::Array(_) | Value::Object(_) => Err(KvError::CustomMetadata(format!(
            "{CUSTOM_METADATA_PREFIX}: value for key {key:?} must be a string"
        ))),
    }
}

/// Parses `custom_metadata`; with `skip_nulls` (patch) null values are left
/// out of the result, since they mean "remove".
fn parse_custom_metadata(
    raw: &Map<String, Value>,
    skip_nulls: bool,
) -> Result<BTreeMap<String, String>, KvError> {
    raw.iter()
        .filter(|(_, v)| !(skip_nulls && v.is_null()))
        .map(|(k, v)| Ok((k.clone(), weak_string(k, v)?)))
        .collect()
}

/// The warning Vault adds when a key tries to relax a mount-wide `cas_required`.
fn cas_warning(requested: Option<bool>, mount_requires: bool) -> Option<Response> {
    (requested == Some(false) && mount_requires).then(|| {
        Response::default().warn("\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.")
    })
}

/// `GET metadata/:path`: the key's settings and every version's state.
pub(crate) async fn read(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    if path.is_empty() {
        return Err(Error::not_found());
    }
    let Some(meta) = kv2_store::load_meta_shared(env, path).await? else {
        return Err(Error::not_found());
    };
    let versions: Map<String, Value> = meta
        .versions
        .iter()
        .map(|(n, vm)| {
            let mut v = Map::new();
            v.insert(
                "created_time".into(),
                Value::String(vm.created_time.rfc3339()),
            );
            v.insert(
                "deletion_time".into(),
                Value::String(rfc3339_or_empty(vm.deletion_time)),
            );
            v.insert("destroyed".into(), Value::Bool(vm.destroyed));
            (n.to_string(), Value::Object(v))
        })
        .collect();
    let mut data = Map::new();
    data.insert("cas_required".into(), Value::Bool(meta.cas_required));
    data.insert(
        "created_time".into(),
        Value::String(rfc3339_or_empty(meta.created_time)),
    );
    data.insert("current_version".into(), Value::from(meta.current_version));
    data.insert("custom_metadata".into(), meta.custom_metadata_json());
    data.insert(
        "delete_version_after".into(),
        Value::String(format_duration(std::time::Duration::from_secs(
            meta.delete_version_after,
        ))),
    );
    data.insert("max_versions".into(), Value::from(meta.max_versions));
    data.insert("oldest_version".into(), Value::from(meta.oldest_version));
    data.insert(
        "updated_time".into(),
        Value::String(rfc3339_or_empty(meta.updated_time)),
    );
    data.insert("versions".into(), Value::Object(versions));
    Ok(Some(Response::with_data(data)))
}

/// The settings a metadata write or patch carries.
struct Settings {
    max_versions: Option<u32>,
    cas_required: Option<bool>,
    delete_version_after: Option<u64>,
}

impl Settings {
    fn parse(fields: &FieldData<'_>) -> Result<Self> {
        Ok(Self {
            max_versions: max_versions(fields)?,
            cas_required: fields.get_bool("cas_required")?,
            delete_version_after: fields
                .get_duration("delete_version_after")?
                .map(|d| d.as_secs()),
        })
    }

    fn apply(&self, meta: &mut KeyMeta) {
        if let Some(m) = self.max_versions {
            meta.max_versions = m;
        }
        if let Some(c) = self.cas_required {
            meta.cas_required = c;
        }
        if let Some(d) = self.delete_version_after {
            meta.delete_version_after = d;
        }
    }
}

/// `POST metadata/:path`: sets the key's settings, creating the key.
pub(crate) async fn write(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    if path.is_empty() {
        return Err(KvError::MissingPath.into());
    }
    kv2_store::meta_key(path)?;
    let settings = Settings::parse(fields)?;
    let custom = fields.get_map("custom_metadata")?;
    if settings.max_versions.is_none()
        && settings.cas_required.is_none()
        && settings.delete_version_after.is_none()
        && custom.is_none()
    {
        return Ok(None);
    }
    let config = kv2_store::load_config(env).await?;
    let custom = match custom {
        Some(raw) => {
            let cm = parse_custom_metadata(raw, false)?;
            validate_custom_metadata(&cm)?;
            Some(cm)
        }
        None => None,
    };
    let response = cas_warning(settings.cas_required, config.cas_required);
    let _guard = env.locks.lock(path).await;
    let mut meta = match kv2_store::load_meta(env, path).await? {
        Some(meta) => meta,
        None => KeyMeta::created_at(env.now()),
    };
    settings.apply(&mut meta);
    if let Some(cm) = custom {
        meta.custom_metadata = cm;
    }
    kv2_store::commit(env, vec![kv2_store::put_meta(path, &meta)?]).await?;
    Ok(response)
}

/// `PATCH metadata/:path`: changes the settings given of an existing key.
pub(crate) async fn patch(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    if path.is_empty() {
        return Err(KvError::MissingPath.into());
    }
    kv2_store::meta_key(path)?;
    let settings = Settings::parse(fields)?;
    let custom = fields.get_map("custom_metadata")?;
    if let Some(raw) = custom {
        validate_custom_metadata(&parse_custom_metadata(raw, true)?)?;
    }
    let config = kv2_store::load_config(env).await?;
    let _guard = env.locks.lock(path).await;
    let Some(mut meta) = kv2_store::load_meta(env, path).await? else {
        return Err(Error::not_found());
    };
    let response = cas_warning(settings.cas_required, config.cas_required);
    settings.apply(&mut meta);
    if let Some(raw) = custom {
        // JSON merge patch of a flat string map: null removes a key.
        for (k, v) in raw {
            if v.is_null() {
                meta.custom_metadata.remove(k);
            } else {
                meta.custom_metadata.insert(k.clone(), weak_string(k, v)?);
            }
        }
    }
    kv2_store::commit(env, vec![kv2_store::put_meta(path, &meta)?]).await?;
    Ok(response)
}

/// `DELETE metadata/:path`: the key and every version, for good.
pub(crate) async fn delete_all(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    if path.is_empty() {
        return Ok(None);
    }
    let _guard = env.locks.lock(path).await;
    let Some(meta) = kv2_store::load_meta_shared(env, path).await? else {
        return Ok(None);
    };
    let mut ops: Vec<WriteOp> = meta
        .versions
        .keys()
        .map(|n| kv2_store::delete_version(path, *n))
        .collect::<Result<_, _>>()?;
    ops.push(WriteOp::Delete(kv2_store::meta_key(path)?));
    kv2_store::commit(env, ops).await?;
    Ok(None)
}

/// `LIST metadata/:path`: the keys and folders below it.
pub(crate) async fn list(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let prefix = kv2_store::meta_prefix(path)?;
    Response::list(env.storage.list(&prefix).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KvV2;
    use crate::test_support::{Harness, START, body};
    use coffer_storage::Key;
    use serde_json::json;

    #[tokio::test]
    async fn read_shows_every_version_and_the_settings() {
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
        h.advance(10);
        h.call(
            &kv,
            Operation::Update,
            "data/app",
            json!({"data": {"a": 2}}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "metadata/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp),
            json!({
                "cas_required": false,
                "created_time": START,
                "current_version": 2,
                "custom_metadata": null,
                "delete_version_after": "0s",
                "max_versions": 0,
                "oldest_version": 0,
                "updated_time": "2023-11-14T22:13:30.123456789Z",
                "versions": {
                    "1": {"created_time": START, "deletion_time": "", "destroyed": false},
                    "2": {"created_time": "2023-11-14T22:13:30.123456789Z", "deletion_time": "", "destroyed": false}
                }
            })
        );
        let err = h
            .call(&kv, Operation::Read, "metadata/none", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
    }

    #[tokio::test]
    async fn write_creates_a_key_without_versions_and_sets_settings() {
        let h = Harness::new();
        let kv = KvV2::new();
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "metadata/app",
                json!({"max_versions": 5, "cas_required": true, "delete_version_after": "3h25m19s",
                       "custom_metadata": {"owner": "jdoe", "n": 3}}),
            )
            .await
            .unwrap();
        assert!(resp.is_none());
        let resp = h
            .call(&kv, Operation::Read, "metadata/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        let b = body(&resp);
        assert_eq!(b["max_versions"], 5);
        assert_eq!(b["cas_required"], true);
        assert_eq!(b["delete_version_after"], "3h25m19s");
        assert_eq!(b["custom_metadata"], json!({"owner": "jdoe", "n": "3"}));
        assert_eq!(b["current_version"], 0);
        assert_eq!(b["created_time"], START);
        assert_eq!(b["versions"], json!({}));
        // The data endpoints show the custom metadata.
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"options": {"cas": 0}, "data": {"x": 1}}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["custom_metadata"],
            json!({"owner": "jdoe", "n": "3"})
        );
        // Replacing custom_metadata replaces it whole.
        h.call(
            &kv,
            Operation::Update,
            "metadata/app",
            json!({"custom_metadata": {"team": "x"}}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "data/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["metadata"]["custom_metadata"],
            json!({"team": "x"})
        );
        // An empty write does not create anything.
        assert!(
            h.call(&kv, Operation::Update, "metadata/empty", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            h.call(&kv, Operation::Read, "metadata/empty", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
    }

    #[tokio::test]
    async fn custom_metadata_is_validated() {
        let h = Harness::new();
        let kv = KvV2::new();
        let err = h
            .call(
                &kv,
                Operation::Update,
                "metadata/a",
                json!({"custom_metadata": {"k": ""}}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.messages()[0],
            "1 error occurred:\n\t* custom_metadata validation failed: length of value for key \"k\" is 0 but must be 0 < len(value) <= 512\n\n"
        );
        let many: Map<String, Value> = (0..65).map(|i| (format!("k{i}"), json!("v"))).collect();
        let err = h
            .call(
                &kv,
                Operation::Update,
                "metadata/a",
                json!({"custom_metadata": many}),
            )
            .await
            .unwrap_err();
        assert!(err.messages()[0].contains("payload must contain at most 64 keys, provided 65"));
        let long_key = "k".repeat(129);
        let err = h
            .call(
                &kv,
                Operation::Update,
                "metadata/a",
                json!({"custom_metadata": {long_key: "v", "t": "a\tb"}}),
            )
            .await
            .unwrap_err();
        assert!(
            err.messages()[0].starts_with("2 errors occurred:"),
            "{:?}",
            err.messages()
        );
        let err = h
            .call(
                &kv,
                Operation::Update,
                "metadata/a",
                json!({"custom_metadata": {"k": {"nested": 1}}}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let err = h
            .call(
                &kv,
                Operation::Update,
                "metadata/a",
                json!({"custom_metadata": "owner=me"}),
            )
            .await
            .unwrap_err();
        assert!(err.messages()[0].contains("custom_metadata"));
        assert_eq!(
            h.call(&kv, Operation::Read, "metadata/a", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
    }

    #[tokio::test]
    async fn patch_merges_custom_metadata_and_settings() {
        let h = Harness::new();
        let kv = KvV2::new();
        let err = h
            .call(
                &kv,
                Operation::Patch,
                "metadata/app",
                json!({"max_versions": 3}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        h.call(
            &kv,
            Operation::Update,
            "metadata/app",
            json!({"max_versions": 5, "custom_metadata": {"a": "1", "b": "2"}}),
        )
        .await
        .unwrap();
        h.call(
            &kv,
            Operation::Patch,
            "metadata/app",
            json!({"cas_required": true, "custom_metadata": {"a": null, "c": "3"}}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "metadata/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        let b = body(&resp);
        assert_eq!(b["custom_metadata"], json!({"b": "2", "c": "3"}));
        assert_eq!(b["max_versions"], 5);
        assert_eq!(b["cas_required"], true);
    }

    #[tokio::test]
    async fn relaxing_mount_cas_required_warns() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(
            &kv,
            Operation::Update,
            "config",
            json!({"cas_required": true}),
        )
        .await
        .unwrap();
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "metadata/app",
                json!({"cas_required": false}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            [
                "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored."
            ]
        );
        assert_eq!(resp.status, None);
    }

    #[tokio::test]
    async fn delete_removes_metadata_and_every_version() {
        let h = Harness::new();
        let kv = KvV2::new();
        for i in 0..3 {
            h.call(
                &kv,
                Operation::Update,
                "data/app",
                json!({"data": {"i": i}}),
            )
            .await
            .unwrap();
        }
        assert!(
            h.call(&kv, Operation::Delete, "metadata/app", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            h.call(&kv, Operation::Read, "metadata/app", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            h.call(&kv, Operation::Read, "data/app", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        for n in 1..=3 {
            let key = Key::new(format!("versions/app/{n}")).unwrap();
            assert!(h.ctx.storage.get(&key).await.unwrap().is_none());
        }
        // Deleting again, or something that never existed, is fine.
        assert!(
            h.call(&kv, Operation::Delete, "metadata/app", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        // A new write starts again at version 1.
        let resp = h
            .call(&kv, Operation::Update, "data/app", json!({"data": {}}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["version"], 1);
    }

    #[tokio::test]
    async fn list_shows_keys_and_folders() {
        let h = Harness::new();
        let kv = KvV2::new();
        assert_eq!(
            h.call(&kv, Operation::List, "metadata/", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        for p in ["foo", "foo/bar", "foo/baz/qux"] {
            h.call(
                &kv,
                Operation::Update,
                &format!("data/{p}"),
                json!({"data": {"v": 1}}),
            )
            .await
            .unwrap();
        }
        for root in ["metadata", "metadata/"] {
            let resp = h
                .call(&kv, Operation::List, root, json!({}))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(body(&resp), json!({"keys": ["foo", "foo/"]}));
        }
        let resp = h
            .call(&kv, Operation::List, "metadata/foo/", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp), json!({"keys": ["bar", "baz/"]}));
        let err = h
            .call(&kv, Operation::List, "metadata/../x", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[tokio::test]
    async fn bad_input_is_400() {
        let h = Harness::new();
        let kv = KvV2::new();
        for (bad, field) in [
            (json!({"max_versions": "x"}), "max_versions"),
            (json!({"cas_required": [true]}), "cas_required"),
            (
                json!({"delete_version_after": "-1h"}),
                "delete_version_after",
            ),
        ] {
            let err = h
                .call(&kv, Operation::Update, "metadata/a", bad.clone())
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert!(err.messages()[0].contains(field), "{bad}");
        }
        let err = h
            .call(
                &kv,
                Operation::Update,
                "metadata/",
                json!({"max_versions": 1}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (400, "missing path")
        );
        let err = h
            .call(
                &kv,
                Operation::Update,
                "metadata/a//b",
                json!({"max_versions": 1}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn multierror_format_matches_go() {
        assert_eq!(multierror(&["a".into()]), "1 error occurred:\n\t* a\n\n");
        assert_eq!(
            multierror(&["a".into(), "b".into()]),
            "2 errors occurred:\n\t* a\n\t* b\n\n"
        );
        assert!(printable("hello world é"));
        assert!(!printable("a\tb"));
        assert!(!printable("a\u{7}"));
    }
}
