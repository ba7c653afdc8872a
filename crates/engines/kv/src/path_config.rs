//! `config`: the mount-wide KV v2 settings.

use coffer_sdk::{Call, FieldData, FieldDef, FieldDefault, FieldType, PathDef};
use coffer_types::{Operation, Response, Result, format_duration, parse_duration};
use serde_json::{Map, Value};

use crate::kv2_store::{self, Config};
use crate::{KvError, KvV2};

const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "max_versions",
        FieldType::Int,
        "The number of versions to keep for each key. Defaults to 10",
    ).default(FieldDefault::Int(0)),
    FieldDef::new(
        "cas_required",
        FieldType::Bool,
        "If true, the backend will require the cas parameter to be set for each write",
    ).default(FieldDefault::Bool(false)),
    // A signed duration: negative disables, so it is parsed here rather than
    // by FieldType::Duration, which refuses negatives.
    FieldDef::new(
        "delete_version_after",
        FieldType::Any,
        "If set, the length of time before a version is deleted. A negative duration disables the use of delete_version_after on all keys. A zero duration clears the current setting. Accepts a Go duration format string.",
    ).default(FieldDefault::Str("0s")),
];

/// The declaration of `config`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "config",
        fields: FIELDS,
        operations: &[Operation::Read, Operation::Update],
        existence_check: false,
        synopsis: "Configures settings for the KV store",
        description: "This path configures backend level settings that are applied to every key in the key-value store.",
    }
}

/// `delete_version_after` as Go prints a duration; the disabled marker is `-1s`.
pub(crate) fn format_signed_secs(secs: i64) -> String {
    if secs < 0 {
        return format!(
            "-{}",
            format_duration(std::time::Duration::from_secs(secs.unsigned_abs()))
        );
    }
    format_duration(std::time::Duration::from_secs(secs.unsigned_abs()))
}

/// `GET config`.
pub(crate) async fn read(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let config = kv2_store::load_config(env).await?;
    let mut data = Map::new();
    data.insert("cas_required".into(), Value::Bool(config.cas_required));
    data.insert(
        "delete_version_after".into(),
        Value::String(format_signed_secs(config.delete_version_after)),
    );
    data.insert("max_versions".into(), Value::from(config.max_versions));
    Ok(Some(Response::with_data(data)))
}

/// Parses a non-negative `max_versions` that fits Vault's `uint32`.
pub(crate) fn max_versions(fields: &FieldData<'_>) -> Result<Option<u32>, KvError> {
    let bad = KvError::InvalidField {
        field: "max_versions",
        reason: "expected a non-negative integer",
    };
    match fields.get_int("max_versions") {
        Ok(None) => Ok(None),
        Ok(Some(n)) => u32::try_from(n).map(Some).map_err(|_| bad),
        Err(_) => Err(bad),
    }
}

/// Parses a signed duration in whole seconds: a negative value means
/// "disabled" (-1).
fn signed_duration(value: &Value) -> Result<i64, KvError> {
    let bad = KvError::InvalidField {
        field: "delete_version_after",
        reason: "expected a duration",
    };
    let negative = match value {
        Value::Number(n) => n.as_f64().is_some_and(|f| f < 0.0),
        Value::String(s) => s.trim().starts_with('-'),
        _ => false,
    };
    if negative {
        if let Value::String(s) = value {
            // Still refuse garbage such as "-abc".
            parse_duration(s.trim().trim_start_matches('-')).map_err(|_| bad)?;
        }
        return Ok(-1);
    }
    let d = coffer_types::duration::parse_duration_value(value).map_err(|_| bad)?;
    Ok(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `POST config`: changes the settings given, keeps the others.
pub(crate) async fn write(b: &KvV2, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &b.env(call.ctx);
    let fields = &call.fields;
    let max = max_versions(fields)?;
    let cas = fields.get_bool("cas_required")?;
    let dva = fields
        .raw("delete_version_after")
        .map(signed_duration)
        .transpose()?;
    if max.is_none() && cas.is_none() && dva.is_none() {
        return Ok(None);
    }
    let mut config: Config = kv2_store::load_config(env).await?;
    if let Some(max) = max {
        config.max_versions = max;
    }
    if let Some(cas) = cas {
        config.cas_required = cas;
    }
    if let Some(dva) = dva {
        config.delete_version_after = dva;
    }
    kv2_store::save_config(env, &config).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::KvV2;
    use crate::test_support::{Harness, body};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn defaults_then_write_and_read_back() {
        let h = Harness::new();
        let kv = KvV2::new();
        let resp = h
            .call(&kv, Operation::Read, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp),
            json!({"cas_required": false, "delete_version_after": "0s", "max_versions": 0})
        );
        let resp = h
            .call(
                &kv,
                Operation::Update,
                "config",
                json!({"max_versions": 5, "cas_required": "true", "delete_version_after": "3h25m19s"}),
            )
            .await
            .unwrap();
        assert!(resp.is_none());
        let resp = h
            .call(&kv, Operation::Read, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp),
            json!({"cas_required": true, "delete_version_after": "3h25m19s", "max_versions": 5})
        );
        // Partial writes keep the other settings; an empty write changes nothing.
        h.call(&kv, Operation::Update, "config", json!({"max_versions": 7}))
            .await
            .unwrap();
        h.call(&kv, Operation::Update, "config", json!({}))
            .await
            .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["max_versions"], 7);
        assert_eq!(body(&resp)["cas_required"], true);
    }

    #[tokio::test]
    async fn negative_delete_version_after_disables_and_zero_resets() {
        let h = Harness::new();
        let kv = KvV2::new();
        h.call(
            &kv,
            Operation::Update,
            "config",
            json!({"delete_version_after": "-5m"}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["delete_version_after"], "-1s");
        h.call(
            &kv,
            Operation::Update,
            "config",
            json!({"delete_version_after": 0}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["delete_version_after"], "0s");
        h.call(
            &kv,
            Operation::Update,
            "config",
            json!({"delete_version_after": 90}),
        )
        .await
        .unwrap();
        let resp = h
            .call(&kv, Operation::Read, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body(&resp)["delete_version_after"], "1m30s");
    }

    #[tokio::test]
    async fn bad_types_are_400_naming_the_field() {
        let h = Harness::new();
        let kv = KvV2::new();
        for (bad, field) in [
            (json!({"max_versions": "many"}), "max_versions"),
            (json!({"max_versions": -1}), "max_versions"),
            (json!({"cas_required": "perhaps"}), "cas_required"),
            (
                json!({"delete_version_after": "soon"}),
                "delete_version_after",
            ),
            (
                json!({"delete_version_after": "-abc"}),
                "delete_version_after",
            ),
            (json!({"delete_version_after": [1]}), "delete_version_after"),
        ] {
            let err = h
                .call(&kv, Operation::Update, "config", bad.clone())
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert!(
                err.messages()[0].contains(field),
                "{bad}: {:?}",
                err.messages()
            );
        }
        let resp = h
            .call(&kv, Operation::Read, "config", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            body(&resp)["max_versions"],
            0,
            "refused writes change nothing"
        );
    }
}
