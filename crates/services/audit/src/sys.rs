//! `sys/audit`, `sys/audit/:path`, `sys/audit-hash/:path` and Coffer's
//! `sys/audit-log/public-key` and `sys/audit-log/status`: the audit
//! service's piece of the `sys/` backend. The [`AuditManager`] is a
//! [`Backend`] whose [`PathTable`] declares these paths relative to `sys/`
//! with Vault's fields and sudo flags, one typed handler per operation.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use coffer_sdk::{
    Backend, Call, FieldData, FieldDef, FieldDefault, FieldType, Path, PathDef, PathTable, Routes,
    handler,
};
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value, json};

use crate::AuditManager;
use crate::manager::EnableRequest;

/// The fields of `audit/:path` (enable).
const ENABLE_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "path",
        FieldType::String,
        "The name of the backend. Cannot be delimited. Example: \"mysql\"",
    ),
    FieldDef::new(
        "type",
        FieldType::String,
        "The type of the backend. Example: \"file\"",
    )
    .required(),
    FieldDef::new(
        "description",
        FieldType::String,
        "User-friendly description for this audit backend.",
    ),
    FieldDef::new(
        "options",
        FieldType::Map,
        "Configuration options for the audit backend.",
    ),
    FieldDef::new(
        "local",
        FieldType::Bool,
        "Mark the mount as a local mount, which is not replicated and is unaffected by replication.",
    )
    .default(FieldDefault::Bool(false)),
];

/// The fields of `audit-hash/:path`.
const HASH_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "path",
        FieldType::String,
        "The name of the backend. Cannot be delimited. Example: \"mysql\"",
    ),
    // Usually a secret the operator looks for in the logs.
    FieldDef::new("input", FieldType::String, "The input string to hash")
        .required()
        .sensitive(),
];

/// The declared paths, in matching order (`audit` before `audit/*path`).
static TABLE: LazyLock<PathTable<AuditManager>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(PathDef {
            pattern: "audit",
            fields: &[],
            operations: &[Operation::Read],
            existence_check: false,
            synopsis: "List the currently enabled audit backends.",
            description: "List the enabled audit devices with their type, description and options.",
        })
        .read(handler!(read_table))
        .sudo(),
        Path::new(PathDef {
            pattern: "audit-hash/*path",
            fields: HASH_FIELDS,
            operations: &[Operation::Update],
            existence_check: false,
            synopsis: "The hash of the given string via the given audit backend",
            description: "Hashes the input with the audit device's HMAC-SHA256 salt, to search audit logs for a known value.",
        })
        .update(handler!(hash)),
        Path::new(PathDef {
            pattern: "audit/*path",
            fields: ENABLE_FIELDS,
            operations: &[Operation::Update, Operation::Delete],
            existence_check: false,
            synopsis: "Enable or disable audit backends.",
            description: "Enable a new audit backend or disable an existing backend. Records are sealed into a tamper-evident log (hash chain, RFC 9162 Merkle tree, signed checkpoints).",
        })
        .update(handler!(enable))
        .delete(handler!(disable))
        .sudo(),
        Path::new(PathDef {
            pattern: "audit-log/public-key",
            fields: &[],
            operations: &[Operation::Read],
            existence_check: false,
            synopsis: "The public key that verifies audit log checkpoints.",
            description: "The C2SP signed-note verifier key of the Ed25519 key that signs every audit log checkpoint; give it to `coffer audit verify --public-key`.",
        })
        .read(handler!(public_key)),
        Path::new(PathDef {
            pattern: "audit-log/status",
            fields: &[],
            operations: &[Operation::Read],
            existence_check: false,
            synopsis: "The state of every audit log.",
            description: "Per device: records sealed, the newest checkpoint, the file on disk, and any deletion, replacement or truncation of the file detected by comparing it with the log head kept in the barrier.",
        })
        .read(handler!(status)),
    ])
});

/// Vault's `options` map: string values; booleans and numbers are accepted
/// as their text.
fn options_map(fields: &FieldData<'_>) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some(map) = fields.get_map("options")? {
        for (k, v) in map {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => return Err(Error::invalid("options must be string valued")),
            };
            out.insert(k.clone(), s);
        }
    }
    Ok(out)
}

/// `audit` (read): the enabled devices, keyed by path.
async fn read_table(mgr: &AuditManager, _call: &Call<'_>) -> Result<Option<Response>> {
    let mut data = Map::new();
    for e in mgr.devices().await {
        data.insert(
            e.path.clone(),
            json!({
                "type": e.device_type,
                "description": e.description,
                "options": e.options,
                "local": e.local,
                "path": e.path,
            }),
        );
    }
    Ok(Some(Response::with_data(data)))
}

/// `audit/:path` (update): enables a device.
async fn enable(mgr: &AuditManager, call: &Call<'_>) -> Result<Option<Response>> {
    let fields = &call.fields;
    let enable = EnableRequest {
        path: call.capture("path").to_owned(),
        device_type: fields.get_string("type")?.unwrap_or_default(),
        description: fields.get_string("description")?.unwrap_or_default(),
        options: options_map(fields)?,
        local: fields.get_bool("local")?.unwrap_or(false),
        declared: false,
    };
    mgr.enable_api(enable).await?;
    Ok(None)
}

/// `audit/:path` (delete): disables a device.
async fn disable(mgr: &AuditManager, call: &Call<'_>) -> Result<Option<Response>> {
    mgr.disable_api(call.capture("path")).await?;
    Ok(None)
}

/// `audit-hash/:path` (update): the input hashed with the device's salt.
async fn hash(mgr: &AuditManager, call: &Call<'_>) -> Result<Option<Response>> {
    let input = call.fields.get_string("input")?.unwrap_or_default();
    if input.is_empty() {
        return Err(Error::invalid("the \"input\" parameter is empty"));
    }
    let hash = mgr.hash(call.capture("path"), &input).await?;
    let mut data = Map::new();
    data.insert("hash".into(), Value::String(hash));
    Ok(Some(Response::with_data(data)))
}

/// `audit-log/public-key` (read): the checkpoint verifier key.
async fn public_key(mgr: &AuditManager, _call: &Call<'_>) -> Result<Option<Response>> {
    let mut data = Map::new();
    data.insert("public_key".into(), json!(mgr.public_key()));
    data.insert("key_name".into(), json!(mgr.key_name()));
    Ok(Some(Response::with_data(data)))
}

/// `audit-log/status` (read): the state of every device's log.
async fn status(mgr: &AuditManager, _call: &Call<'_>) -> Result<Option<Response>> {
    Ok(Some(Response::with_data(mgr.status().await)))
}

/// The audit service answers its `sys/` paths (relative to `sys/`) as a
/// backend; the context is unused (the manager keeps its own storage).
impl Backend for AuditManager {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use coffer_sdk::{Context, MountConfig, Services, SystemClock, special_path_matches};
    use coffer_storage::{MemoryStorage, Prefix, View};
    use coffer_types::Request;
    use serde_json::json;

    use super::*;
    use crate::AuditManagerOptions;

    async fn piece() -> (AuditManager, Context) {
        let view = || View::new(Arc::new(MemoryStorage::new()), Prefix::new("sys/").unwrap());
        let mgr = AuditManager::load(
            view(),
            Arc::new(SystemClock),
            AuditManagerOptions::default(),
        )
        .await
        .unwrap();
        let ctx = Context {
            storage: view(),
            config: MountConfig::default(),
            clock: Arc::new(SystemClock),
            services: Services::default(),
        };
        (mgr, ctx)
    }

    async fn send(
        mgr: &AuditManager,
        ctx: &Context,
        op: Operation,
        path: &str,
        body: Value,
    ) -> Result<Option<Response>> {
        let req = Request::new(op, path).with_data(body.as_object().cloned().unwrap());
        mgr.handle(ctx, &req).await
    }

    /// Vault's audit paths, with `audit` and `audit/:path` sudo as in Vault
    /// and as the core's old `SUDO_PATHS` ("audit", "audit/*") had them.
    #[tokio::test]
    async fn declarations_and_sudo_paths() {
        let (mgr, _) = piece().await;
        let declared: Vec<(&str, &[Operation])> = mgr
            .paths()
            .iter()
            .map(|d| (d.pattern, d.operations))
            .collect();
        assert_eq!(
            declared,
            [
                ("audit", &[Operation::Read][..]),
                ("audit-hash/*path", &[Operation::Update][..]),
                ("audit/*path", &[Operation::Update, Operation::Delete][..]),
                ("audit-log/public-key", &[Operation::Read][..]),
                ("audit-log/status", &[Operation::Read][..]),
            ]
        );
        let special = mgr.special_paths();
        assert!(special.unauthenticated.is_empty());
        let sudo = |p: &str| special_path_matches(&special.root, p);
        for p in ["audit", "audit/", "audit/file", "audit/a/b"] {
            assert!(sudo(p), "{p} needs sudo");
        }
        for p in [
            "audit-hash/file",
            "audit-log/status",
            "audit-log/public-key",
            "auditx",
        ] {
            assert!(!sudo(p), "{p} needs no sudo");
        }
    }

    /// Every declared operation, sent with every declared field, reads only
    /// declared fields (the dispatch would answer 500 otherwise), and the
    /// dispatch warns about an unknown one.
    #[tokio::test]
    async fn handlers_read_only_declared_fields() {
        let (mgr, ctx) = piece().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("audit.log").display().to_string();
        let resp = send(
            &mgr,
            &ctx,
            Operation::Update,
            "audit/file",
            json!({"type": "file", "description": "d", "local": false,
                   "path": "file", "options": {"file_path": file}, "bogus": 1}),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [bogus]"]
        );
        let hashed = send(
            &mgr,
            &ctx,
            Operation::Update,
            "audit-hash/file",
            json!({"input": "secret", "path": "file"}),
        )
        .await
        .unwrap()
        .unwrap();
        assert!(
            hashed.data.unwrap()["hash"]
                .as_str()
                .unwrap()
                .starts_with("hmac-sha256:")
        );
        for path in ["audit", "audit-log/public-key", "audit-log/status"] {
            send(&mgr, &ctx, Operation::Read, path, json!({}))
                .await
                .unwrap()
                .unwrap();
        }
        assert!(
            send(&mgr, &ctx, Operation::Delete, "audit/file", json!({}))
                .await
                .unwrap()
                .is_none()
        );
        let err = send(&mgr, &ctx, Operation::List, "audit", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        let err = send(&mgr, &ctx, Operation::Read, "audit-log/nope", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (404, "unsupported path")
        );
    }
}
