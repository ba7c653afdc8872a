//! `sys/version-history`: every version of Coffer that has unsealed this
//! storage, with when it was first seen. The core records the running
//! version at each unseal ([`record_running_version`]) under
//! `version-history/` in the `sys/` mount's storage, the view the handler
//! reads through its context; Vault keeps the same record under
//! `core/versions/`.

use crate::error::CoreError;
use std::time::SystemTime;

use coffer_sdk::{Call, Path, PathDef, handler};
use coffer_storage::{Key, Prefix, Storage, View};
use coffer_types::{Operation, Response, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::tools::ToolsPiece;

/// Where the records live, relative to the `sys/` view.
const PREFIX: &str = "version-history/";

/// One version's record.
#[derive(Debug, Serialize, Deserialize)]
struct VersionRecord {
    version: String,
    /// RFC 3339 in whole seconds, UTC.
    timestamp_installed: String,
    build_date: String,
}

/// Records `version` as installed at `now` unless it already is. Called by
/// the core when it unseals, with `sys/`'s view, the running
/// [`super::VERSION`] and [`super::BUILD_DATE`].
pub(crate) async fn record_version(
    sys: &View,
    version: &str,
    build_date: &str,
    now: SystemTime,
) -> Result<()> {
    let key = Key::new(format!("{PREFIX}{version}"))?;
    if sys.get(&key).await?.is_some() {
        return Ok(());
    }
    let record = VersionRecord {
        version: version.to_owned(),
        timestamp_installed: coffer_types::timestamp::rfc3339_seconds(now),
        build_date: build_date.to_owned(),
    };
    let bytes = serde_json::to_vec(&record).map_err(|source| CoreError::Json {
        doing: "encoding the version record",
        source,
    })?;
    sys.put(&key, bytes).await?;
    Ok(())
}

/// Records the running version (see [`record_version`]).
pub(crate) async fn record_running_version(sys: &View, now: SystemTime) -> Result<()> {
    record_version(sys, super::VERSION, super::BUILD_DATE, now).await
}

fn def() -> PathDef {
    PathDef {
        pattern: "version-history",
        fields: &[],
        operations: &[Operation::List],
        existence_check: false,
        synopsis: "Returns map of historical version change entries",
        description: "Lists the versions of Coffer that have unsealed this storage, in the \
             order they were first seen, each with the time it was installed, its build date \
             and the version installed before it (null for the first).",
    }
}

/// The piece's paths of this family.
pub(super) fn paths() -> Vec<Path<ToolsPiece>> {
    vec![Path::new(def()).list(handler!(list))]
}

async fn list(_: &ToolsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let storage = &call.ctx.storage;
    let prefix = Prefix::new(PREFIX)?;
    let mut records = Vec::new();
    for name in storage.list(&prefix).await? {
        if let Some(bytes) = storage.get(&prefix.join(&name)?).await? {
            let record: VersionRecord =
                serde_json::from_slice(&bytes).map_err(|source| CoreError::VersionRecord {
                    name: name.clone(),
                    source,
                })?;
            records.push(record);
        }
    }
    records.sort_by(|a, b| {
        a.timestamp_installed
            .cmp(&b.timestamp_installed)
            .then_with(|| a.version.cmp(&b.version))
    });
    let mut key_info = Map::new();
    let mut previous: Option<&str> = None;
    for r in &records {
        key_info.insert(
            r.version.clone(),
            json!({
                "timestamp_installed": r.timestamp_installed,
                "build_date": r.build_date,
                "previous_version": previous,
            }),
        );
        previous = Some(&r.version);
    }
    let keys = records.iter().map(|r| r.version.clone()).collect();
    let Some(mut resp) = Response::list(keys)? else {
        return Ok(None);
    };
    if let Some(data) = resp.data.as_mut() {
        data.insert("key_info".into(), Value::Object(key_info));
    }
    Ok(Some(resp))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use coffer_sdk::Clock as _;
    use serde_json::json;

    use super::*;
    use crate::sys::tools::tests::{ctx, send};

    #[tokio::test]
    async fn records_each_version_once_in_order() {
        let (c, clock) = ctx();
        let piece = ToolsPiece::new(crate::config::core_catalog());
        let empty = send(&piece, &c, Operation::List, "version-history/", json!({})).await;
        assert_eq!(empty.unwrap_err().status(), 404);

        record_version(
            &c.storage,
            "0.9.0+coffer",
            "2026-01-01T00:00:00Z",
            clock.now(),
        )
        .await
        .unwrap();
        clock.advance(Duration::from_secs(60));
        record_running_version(&c.storage, clock.now())
            .await
            .unwrap();
        clock.advance(Duration::from_secs(60));
        // A second unseal of the same version keeps the first record.
        record_running_version(&c.storage, clock.now())
            .await
            .unwrap();
        record_version(&c.storage, "0.9.0+coffer", "x", clock.now())
            .await
            .unwrap();

        let resp = send(&piece, &c, Operation::List, "version-history/", json!({}))
            .await
            .unwrap()
            .unwrap();
        let data = resp.data.unwrap();
        let running = crate::sys::VERSION;
        assert_eq!(data["keys"], json!(["0.9.0+coffer", running]));
        assert_eq!(
            data["key_info"]["0.9.0+coffer"],
            json!({
                "timestamp_installed": "2023-11-14T22:13:20Z",
                "build_date": "2026-01-01T00:00:00Z",
                "previous_version": null,
            })
        );
        assert_eq!(
            data["key_info"][running],
            json!({
                "timestamp_installed": "2023-11-14T22:14:20Z",
                "build_date": crate::sys::BUILD_DATE,
                "previous_version": "0.9.0+coffer",
            })
        );
        let err = send(&piece, &c, Operation::Read, "version-history", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
    }
}
