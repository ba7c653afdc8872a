//! `subkeys/:path`: the structure of a version with every value replaced by
//! `null`.

use coffer_sdk::{Call, FieldDef, FieldDefault, FieldType, PathDef};
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value};

use crate::KvV2;
use crate::kv2_store;
use crate::path_data::{gone, requested_version};

const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "depth",
        FieldType::Int,
        "The maximum depth to traverse. No limit will be imposed if not provided or if 0.",
    )
    .default(FieldDefault::Int(0)),
    FieldDef::new(
        "version",
        FieldType::Int,
        "Specifies which version to retrieve. If not provided, the current version will be used.",
    )
    .default(FieldDefault::Int(0)),
];

/// The declaration of `subkeys/:path`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "subkeys/*path",
        fields: FIELDS,
        operations: &[Operation::Read],
        existence_check: false,
        synopsis: "Read the structure of a secret entry from the Key-Value store with the values removed.",
        description: "This path provides the subkeys that exist within a secret entry that exists at the provided path. The secret entry at this path will be retrieved and stripped of all data by replacing underlying non-map values with null. The \"version\" parameter specifies which version of the secret to read when generating the subkeys structure. If not provided, the current version will be used.",
    }
}

/// Replaces every leaf (non-object value or empty object) with `null`; objects
/// deeper than `max_depth` (0: no limit) become leaves too, so no value below
/// the cut survives.
fn remove_values(map: &mut Map<String, Value>, depth: i64, max_depth: i64) {
    for value in map.values_mut() {
        let next = depth + 1;
        match value {
            Value::Object(inner) if (max_depth == 0 || next <= max_depth) && !inner.is_empty() => {
                remove_values(inner, next, max_depth);
            }
            _ => *value = Value::Null,
        }
    }
}

/// `GET subkeys/:path`.
pub(crate) async fn read(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let path = call.capture("path");
    let fields = &call.fields;
    let depth = fields.get_int("depth")?.unwrap_or(0);
    if path.is_empty() {
        return Err(Error::not_found());
    }
    let Some(meta) = kv2_store::load_meta_shared(env, path).await? else {
        return Err(Error::not_found());
    };
    let number = requested_version(fields, &meta)?;
    let Some(vm) = meta.versions.get(&number) else {
        return Err(Error::not_found());
    };
    let mut out = Map::new();
    out.insert(
        "metadata".into(),
        Value::Object(meta.version_json(number, vm)),
    );
    out.insert("subkeys".into(), Value::Null);
    if vm.is_gone(env.now()) {
        return Ok(Some(gone(out)));
    }
    let mut data = kv2_store::load_version(env.storage, path, number).await?;
    remove_values(&mut data, 1, depth);
    out.insert("subkeys".into(), Value::Object(data));
    Ok(Some(Response::with_data(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KvV2;
    use crate::test_support::{Harness, START, body};
    use serde_json::json;

    fn secret() -> Value {
        json!({"foo": "abc", "bar": {"baz": "def", "deep": {"x": 1}}, "quux": {}, "list": [1, 2]})
    }

    #[tokio::test]
    async fn values_are_stripped_to_the_requested_depth() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(
            &kv,
            Operation::Update,
            "data/app",
            json!({"data": secret()}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "subkeys/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp),
            json!({
                "subkeys": {"foo": null, "bar": {"baz": null, "deep": {"x": null}}, "quux": null, "list": null},
                "metadata": {"created_time": START, "custom_metadata": null, "deletion_time": "",
                             "destroyed": false, "version": 1}
            })
        );
        let resp = h
            .call(&kv, Operation::Read, "subkeys/app", json!({"depth": "1"}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["subkeys"],
            json!({"foo": null, "bar": null, "quux": null, "list": null})
        );
        let resp = h
            .call(&kv, Operation::Read, "subkeys/app", json!({"depth": 2}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["subkeys"],
            json!({"foo": null, "bar": {"baz": null, "deep": null}, "quux": null, "list": null})
        );
    }

    #[tokio::test]
    async fn versions_deleted_versions_and_bad_input() {
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
            json!({"data": {"b": 1}}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "subkeys/app", json!({"version": 1}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["subkeys"], json!({"a": null}));
        h.call(&kv, Operation::Delete, "data/app", json!({}))
            .await
            .unwrap();
        h.advance(1);
        let resp = h
            .call(&kv, Operation::Read, "subkeys/app", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(404));
        assert_eq!(body(&resp)["subkeys"], json!(null));
        assert_eq!(body(&resp)["metadata"]["version"], 2);
        assert_eq!(
            h.call(&kv, Operation::Read, "subkeys/none", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            h.call(&kv, Operation::Read, "subkeys/app", json!({"version": 7}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        let err = h
            .call(
                &kv,
                Operation::Read,
                "subkeys/app",
                json!({"depth": "deep"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.messages()[0].contains("depth"));
        assert_eq!(
            h.call(&kv, Operation::Read, "subkeys/a/../b", json!({}))
                .await
                .unwrap_err()
                .status(),
            400
        );
    }
}
