//! `sys/audit`, `sys/audit/:path`, `sys/audit-hash/:path` and Coffer's
//! `sys/audit-log/public-key` and `sys/audit-log/status`: the declared paths
//! and their handlers.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use coffer_sdk::{FieldData, FieldDef, FieldType, PathDef, RouteTable};
use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Map, Value, json};

use crate::AuditManager;
use crate::manager::EnableRequest;

#[derive(Clone, Copy, Debug)]
enum Route {
    Table,
    Device,
    Hash,
    PublicKey,
    Status,
}

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
    ),
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
    ),
];

const HASH_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "path",
        FieldType::String,
        "The name of the backend. Cannot be delimited. Example: \"mysql\"",
    ),
    FieldDef::new("input", FieldType::String, "The input string to hash"),
];

static TABLE: LazyLock<RouteTable<Route>> = LazyLock::new(|| {
    RouteTable::new(vec![
        (
            PathDef {
                pattern: "audit",
                fields: &[],
                operations: &[Operation::Read],
                existence_check: false,
                synopsis: "List the currently enabled audit backends.",
                description: "List the enabled audit devices with their type, description and options.",
            },
            Route::Table,
        ),
        (
            PathDef {
                pattern: "audit-hash/*path",
                fields: HASH_FIELDS,
                operations: &[Operation::Update],
                existence_check: false,
                synopsis: "The hash of the given string via the given audit backend",
                description: "Hashes the input with the audit device's HMAC-SHA256 salt, to search audit logs for a known value.",
            },
            Route::Hash,
        ),
        (
            PathDef {
                pattern: "audit/*path",
                fields: ENABLE_FIELDS,
                operations: &[Operation::Update, Operation::Delete],
                existence_check: false,
                synopsis: "Enable or disable audit backends.",
                description: "Enable a new audit backend or disable an existing backend. Records are sealed into a tamper-evident log (hash chain, RFC 9162 Merkle tree, signed checkpoints).",
            },
            Route::Device,
        ),
        (
            PathDef {
                pattern: "audit-log/public-key",
                fields: &[],
                operations: &[Operation::Read],
                existence_check: false,
                synopsis: "The public key that verifies audit log checkpoints.",
                description: "The C2SP signed-note verifier key of the Ed25519 key that signs every audit log checkpoint; give it to `coffer audit verify --public-key`.",
            },
            Route::PublicKey,
        ),
        (
            PathDef {
                pattern: "audit-log/status",
                fields: &[],
                operations: &[Operation::Read],
                existence_check: false,
                synopsis: "The state of every audit log.",
                description: "Per device: records sealed, the newest checkpoint, the file on disk, and any deletion, replacement or truncation of the file detected by comparing it with the log head kept in the barrier.",
            },
            Route::Status,
        ),
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

impl AuditManager {
    /// Answers the `sys/audit*` endpoints; `relative` is the path under
    /// `sys/`. `Ok(None)` is a success with nothing to say (204). A path that
    /// is not an audit endpoint is Vault's 404 `unsupported path`.
    pub async fn handle_sys(&self, relative: &str, req: &Request) -> Result<Option<Response>> {
        let op = req.op();
        if op == Operation::Help {
            return TABLE.help(relative).map(Some);
        }
        let matched = TABLE.route(relative)?;
        matched.require_operation(op)?;
        let path = matched.captures.get("path").to_owned();
        match matched.route {
            Route::Table => Ok(Some(self.table_response().await)),
            Route::Device if op == Operation::Delete => {
                self.disable_api(&path).await?;
                Ok(None)
            }
            Route::Device => {
                let fields = FieldData::new(&req.data, ENABLE_FIELDS)?;
                let enable = EnableRequest {
                    path,
                    device_type: fields.get_string("type")?.unwrap_or_default(),
                    description: fields.get_string("description")?.unwrap_or_default(),
                    options: options_map(&fields)?,
                    local: fields.get_bool("local")?.unwrap_or(false),
                    declared: false,
                };
                self.enable_api(enable).await?;
                Ok(None)
            }
            Route::Hash => {
                let fields = FieldData::new(&req.data, HASH_FIELDS)?;
                let input = fields.get_string("input")?.unwrap_or_default();
                if input.is_empty() {
                    return Err(Error::invalid("the \"input\" parameter is empty"));
                }
                let hash = self.hash(&path, &input).await?;
                let mut data = Map::new();
                data.insert("hash".into(), Value::String(hash));
                Ok(Some(Response::with_data(data)))
            }
            Route::PublicKey => {
                let mut data = Map::new();
                data.insert("public_key".into(), json!(self.public_key()));
                data.insert("key_name".into(), json!(self.key_name()));
                Ok(Some(Response::with_data(data)))
            }
            Route::Status => Ok(Some(Response::with_data(self.status().await))),
        }
    }

    async fn table_response(&self) -> Response {
        let mut data = Map::new();
        for e in self.devices().await {
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
        Response::with_data(data)
    }
}
