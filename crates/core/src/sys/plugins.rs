//! `sys/plugins/catalog`: the plugin catalog as Vault shows it, from the
//! catalog the core was built with (`CoreConfig::catalog`). Every Coffer
//! plugin is builtin: the secrets engines and auth methods an operator can
//! enable are listed (singletons such as `cubbyhole` and `token`, which
//! cannot be enabled, are not, as in Vault), and registering or removing
//! external plugins is refused.
//! The `database` list is the database engine's builtin plugins, which the
//! catalog names (`Catalog::database_plugins`).

use crate::error::CoreError;
use coffer_sdk::catalog::{Availability, Kind};
use coffer_sdk::{Call, FieldDef, FieldType, Path, PathDef, handler};
use coffer_types::{Operation, Response, Result};
use serde_json::{Map, Value, json};

use super::tools::ToolsPiece;

/// The version every builtin plugin reports (Vault's
/// `v1.12.0+builtin.vault`).
pub(crate) const BUILTIN_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"), "+builtin.coffer");

/// Vault's plugin types, in the order Vault lists them.
const TYPES: [&str; 3] = ["auth", "database", "secret"];

const TYPE_FIELD: FieldDef = FieldDef::new(
    "type",
    FieldType::String,
    "The type of the plugin, may be auth, secret, or database",
);

const LIST_FIELDS: &[FieldDef] = &[TYPE_FIELD];

const PLUGIN_FIELDS: &[FieldDef] = &[
    TYPE_FIELD,
    FieldDef::new("name", FieldType::String, "The name of the plugin"),
    FieldDef::new(
        "version",
        FieldType::String,
        "The semantic version of the plugin to use, or image tag if oci_image is provided.",
    ),
];

const BUILTIN_ONLY: &str = "Coffer runs builtin plugins only: external plugins cannot be \
     registered or removed.";

fn catalog_def() -> PathDef {
    PathDef {
        pattern: "plugins/catalog",
        fields: &[],
        operations: &[Operation::Read],
        existence_check: false,
        synopsis: "Lists all the plugins known to Vault",
        description: "Lists the plugins of the catalog by type (auth, database, secret) and in \
             detail. Every Coffer plugin is builtin.",
    }
}

fn type_def() -> PathDef {
    PathDef {
        pattern: "plugins/catalog/:type",
        fields: LIST_FIELDS,
        operations: &[Operation::List],
        existence_check: false,
        synopsis: "Lists the plugins of one type in the catalog",
        description: "Lists the names of the plugins of the given type (auth, database, secret).",
    }
}

fn plugin_def() -> PathDef {
    PathDef {
        pattern: "plugins/catalog/:type/:name",
        fields: PLUGIN_FIELDS,
        operations: &[Operation::Read, Operation::Update, Operation::Delete],
        existence_check: false,
        synopsis: "Configures the plugins known to Vault",
        description: "Reads a builtin plugin of the catalog. Coffer runs builtin plugins only: \
             registering (write) or removing (delete) external plugins is refused with a 400.",
    }
}

/// The piece's paths of this family. Vault marks `plugins/catalog/*` sudo.
pub(super) fn paths() -> Vec<Path<ToolsPiece>> {
    vec![
        Path::new(catalog_def()).read(handler!(read_all)),
        Path::new(type_def()).list(handler!(list_type)).sudo(),
        Path::new(plugin_def())
            .read(handler!(read_plugin))
            .update(handler!(refuse))
            .delete(handler!(refuse))
            .sudo(),
    ]
}

fn parse_type(name: &str) -> Result<&'static str> {
    TYPES
        .into_iter()
        .find(|t| *t == name)
        .ok_or_else(|| CoreError::PluginType(name.to_owned()).into())
}

/// The names of the plugins of Vault type `plugin_type`, sorted.
fn names(piece: &ToolsPiece, plugin_type: &str) -> Vec<String> {
    let kind = match plugin_type {
        "auth" => Kind::Auth,
        "secret" => Kind::Secret,
        "database" => return piece.catalog.database_plugins().to_vec(),
        _ => return Vec::new(),
    };
    let mut names: Vec<String> = piece
        .catalog
        .entries()
        .filter(|e| e.kind() == kind && e.availability() == Availability::Mountable)
        .map(|e| e.name().to_owned())
        .collect();
    names.sort();
    names
}

fn detail(name: &str, plugin_type: &str) -> Value {
    json!({
        "builtin": true,
        "deprecation_status": "supported",
        "name": name,
        "type": plugin_type,
        "version": BUILTIN_VERSION,
    })
}

async fn read_all(piece: &ToolsPiece, _: &Call<'_>) -> Result<Option<Response>> {
    let mut data = Map::new();
    let mut detailed = Vec::new();
    for t in TYPES {
        let names = names(piece, t);
        detailed.extend(names.iter().map(|n| detail(n, t)));
        data.insert(t.into(), json!(names));
    }
    data.insert("detailed".into(), Value::Array(detailed));
    Ok(Some(Response::with_data(data)))
}

async fn list_type(piece: &ToolsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let t = parse_type(call.capture("type"))?;
    Response::list(names(piece, t))
}

async fn read_plugin(piece: &ToolsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let t = parse_type(call.capture("type"))?;
    let name = call.capture("name");
    if !names(piece, t).iter().any(|n| n == name) {
        return Ok(None);
    }
    if let Some(v) = call.fields.get_string("version")?
        && !v.is_empty()
        && v != BUILTIN_VERSION
    {
        return Ok(None);
    }
    let mut data = Map::new();
    data.insert("name".into(), json!(name));
    data.insert("type".into(), json!(t));
    data.insert("builtin".into(), json!(true));
    data.insert("version".into(), json!(BUILTIN_VERSION));
    data.insert("deprecation_status".into(), json!("supported"));
    data.insert("args".into(), json!([]));
    data.insert("command".into(), json!(""));
    data.insert("sha256".into(), json!(""));
    data.insert("oci_image".into(), json!(""));
    data.insert("runtime".into(), json!(""));
    Ok(Some(Response::with_data(data)))
}

async fn refuse(_: &ToolsPiece, _: &Call<'_>) -> Result<Option<Response>> {
    Err(CoreError::BuiltinOnly(BUILTIN_ONLY).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sys::tools::tests::{ctx, send};

    fn piece() -> ToolsPiece {
        use coffer_sdk::catalog::{AliasMount, Entry};
        let noop: coffer_sdk::catalog::Factory =
            |_| Err(coffer_types::Error::internal("not built in tests"));
        let catalog = crate::config::core_catalog()
            .with(Entry::mountable(Kind::Secret, "kv", noop))
            .with(Entry::alias(
                Kind::Secret,
                "kv-v2",
                "kv",
                &[("version", "2")],
                AliasMount::AsTarget,
            ))
            .with(Entry::singleton(Kind::Secret, "cubbyhole", Some(noop)))
            .with(Entry::mountable(Kind::Auth, "userpass", noop))
            .with(Entry::mountable(Kind::Auth, "approle", noop))
            .with_database_plugins(["redis-database-plugin", "postgresql-database-plugin"]);
        ToolsPiece::new(catalog)
    }

    async fn call(op: Operation, path: &str, body: Value) -> Result<Option<Response>> {
        let (c, _) = ctx();
        send(&piece(), &c, op, path, body).await
    }

    #[tokio::test]
    async fn lists_the_mountable_builtins_by_type() {
        let data = call(Operation::Read, "plugins/catalog", json!({}))
            .await
            .unwrap()
            .unwrap()
            .data
            .unwrap();
        assert_eq!(data["auth"], json!(["approle", "userpass"]));
        assert_eq!(data["secret"], json!(["kv", "kv-v2"]));
        assert_eq!(
            data["database"],
            json!(["postgresql-database-plugin", "redis-database-plugin"])
        );
        let detailed = data["detailed"].as_array().unwrap();
        assert_eq!(detailed.len(), 6);
        assert_eq!(
            detailed[0],
            json!({"builtin": true, "deprecation_status": "supported", "name": "approle",
                   "type": "auth", "version": BUILTIN_VERSION})
        );
        assert_eq!(
            detailed[2],
            json!({"builtin": true, "deprecation_status": "supported",
                   "name": "postgresql-database-plugin", "type": "database",
                   "version": BUILTIN_VERSION})
        );
        assert_eq!(detailed[5]["name"], "kv-v2");

        let keys = call(Operation::List, "plugins/catalog/auth/", json!({}))
            .await
            .unwrap()
            .unwrap()
            .data
            .unwrap();
        assert_eq!(keys["keys"], json!(["approle", "userpass"]));
        let keys = call(Operation::List, "plugins/catalog/database", json!({}))
            .await
            .unwrap()
            .unwrap()
            .data
            .unwrap();
        assert_eq!(
            keys["keys"],
            json!(["postgresql-database-plugin", "redis-database-plugin"])
        );
        let plugin = call(
            Operation::Read,
            "plugins/catalog/database/redis-database-plugin",
            json!({}),
        )
        .await
        .unwrap()
        .unwrap()
        .data
        .unwrap();
        assert_eq!(plugin["type"], "database");
        let err = call(Operation::List, "plugins/catalog/widget", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()[0].as_str()),
            (400, "\"widget\" is not a supported plugin type")
        );
    }

    #[tokio::test]
    async fn reads_one_plugin() {
        let data = call(Operation::Read, "plugins/catalog/secret/kv", json!({}))
            .await
            .unwrap()
            .unwrap()
            .data
            .unwrap();
        assert_eq!(
            Value::Object(data),
            json!({"name": "kv", "type": "secret", "builtin": true,
                   "version": BUILTIN_VERSION, "deprecation_status": "supported",
                   "args": [], "command": "", "sha256": "", "oci_image": "", "runtime": ""})
        );
        let same = call(
            Operation::Read,
            "plugins/catalog/secret/kv",
            json!({ "version": BUILTIN_VERSION }),
        )
        .await
        .unwrap();
        assert!(same.is_some());
        for (path, body) in [
            ("plugins/catalog/secret/kv", json!({"version": "v9.9.9"})),
            ("plugins/catalog/secret/cubbyhole", json!({})),
            ("plugins/catalog/auth/kv", json!({})),
            ("plugins/catalog/secret/nope", json!({})),
        ] {
            assert!(
                call(Operation::Read, path, body).await.unwrap().is_none(),
                "{path}"
            );
        }
        let err = call(Operation::Read, "plugins/catalog/widget/kv", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[tokio::test]
    async fn registering_and_removing_are_refused() {
        for op in [Operation::Update, Operation::Create, Operation::Delete] {
            let err = call(
                op,
                "plugins/catalog/secret/my-plugin",
                json!({"sha256": "d130", "command": "my-plugin"}),
            )
            .await
            .unwrap_err();
            assert_eq!(
                (err.status(), err.messages()[0].as_str()),
                (400, BUILTIN_ONLY),
                "{op:?}"
            );
        }
    }
}
