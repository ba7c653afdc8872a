//! `sys/internal/specs/openapi`: Vault's OpenAPI 3 document of the mounted
//! backends, generated from their path declarations ([`Backend::paths`] and,
//! for `sys/`, [`super::declared::SYS_PATHS`]).
//!
//! It exists so that clients and tools can discover what each mount accepts,
//! and so the bad-request corpus (`crates/interfaces/cli/tests/e2e_bad_requests.rs`) is
//! generated from what the running server declares: a new engine is covered
//! as soon as it declares its paths. As in Vault, the document lists only
//! the mounts the caller's policies reach; path names use the mount paths as
//! mounted (`/secret/data/{path}`).
//!
//! [`Backend::paths`]: coffer_sdk::Backend::paths

use coffer_sdk::{FieldType, PathDef, SpecialPaths};
use coffer_types::{Operation, Response};
use serde_json::{Map, Value, json};

use crate::pipeline::{Caller, matches_special};
use crate::unsealed::Unsealed;

/// The `sys/` paths answered without a token (those of
/// `super::unauthenticated`), flagged `x-vault-unauthenticated`.
const SYS_UNAUTHENTICATED: &[&str] = &[
    "init",
    "seal-status",
    "unseal",
    "health",
    "leader",
    "rekey/*",
    "generate-root/*",
    "wrapping/lookup",
];

/// The OpenAPI schema of a field type (Vault's mapping: durations are
/// strings of format `duration`, comma-string lists arrays of strings).
fn schema(kind: FieldType) -> Value {
    match kind {
        FieldType::String => json!({"type": "string"}),
        FieldType::Int => json!({"type": "integer"}),
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Duration => json!({"type": "string", "format": "duration"}),
        FieldType::StringList => json!({"type": "array", "items": {"type": "string"}}),
        FieldType::Map => json!({"type": "object"}),
        FieldType::Any => json!({}),
    }
}

/// `roles/:name` -> (`roles/{name}`, [`name`]); `data/*path` -> (`data/{path}`, [`path`]).
fn openapi_pattern(pattern: &str) -> (String, Vec<&str>) {
    let mut params = Vec::new();
    let segments: Vec<String> = pattern
        .split('/')
        .map(
            |seg| match seg.strip_prefix(':').or_else(|| seg.strip_prefix('*')) {
                Some(name) => {
                    params.push(name);
                    format!("{{{name}}}")
                }
                None => seg.to_owned(),
            },
        )
        .collect();
    (segments.join("/"), params)
}

fn operation(def: &PathDef, verb: &str, list: bool) -> Value {
    let mut op = Map::new();
    op.insert("summary".into(), json!(def.synopsis));
    if !def.description.is_empty() {
        op.insert("description".into(), json!(def.description));
    }
    if list {
        op.insert(
            "parameters".into(),
            json!([{
                "name": "list",
                "in": "query",
                "description": "Must be set to `true`",
                "required": !def.operations.contains(&Operation::Read),
                "schema": {"type": "string", "enum": ["true"]}
            }]),
        );
    }
    if verb == "post" && !def.fields.is_empty() {
        let mut properties = Map::new();
        for field in def.fields {
            let mut s = schema(field.kind);
            if let Value::Object(m) = &mut s {
                m.insert("description".into(), json!(field.description));
            }
            properties.insert(field.name.to_owned(), s);
        }
        op.insert(
            "requestBody".into(),
            json!({"content": {"application/json": {"schema": {
                "type": "object",
                "properties": properties,
            }}}}),
        );
    }
    let mut responses = Map::new();
    responses.insert("200".into(), json!({"description": "OK"}));
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

fn path_item(def: &PathDef, special: &SpecialPaths, relative: &str) -> Value {
    let (_, params) = openapi_pattern(def.pattern);
    let mut item = Map::new();
    item.insert("description".into(), json!(def.synopsis));
    if !params.is_empty() {
        let params: Vec<Value> = params
            .iter()
            .map(|name| {
                json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "schema": {"type": "string"},
                })
            })
            .collect();
        item.insert("parameters".into(), Value::Array(params));
    }
    // A pattern's literal part decides whether it is a special path.
    let literal = relative.split('{').next().unwrap_or("");
    if matches_special(&special.root, literal) {
        item.insert("x-vault-sudo".into(), json!(true));
    }
    if matches_special(&special.unauthenticated, literal) {
        item.insert("x-vault-unauthenticated".into(), json!(true));
    }
    if def.existence_check {
        item.insert("x-vault-createSupported".into(), json!(true));
    }
    let ops = def.operations;
    item.insert(
        "x-coffer-operations".into(),
        json!(ops.iter().map(|o| o.as_str()).collect::<Vec<_>>()),
    );
    if ops.contains(&Operation::Read) || ops.contains(&Operation::List) {
        item.insert(
            "get".into(),
            operation(def, "get", ops.contains(&Operation::List)),
        );
    }
    if ops.contains(&Operation::Update) || ops.contains(&Operation::Create) {
        item.insert("post".into(), operation(def, "post", false));
    }
    if ops.contains(&Operation::Patch) {
        item.insert("patch".into(), operation(def, "post", false));
    }
    if ops.contains(&Operation::Delete) {
        item.insert("delete".into(), operation(def, "delete", false));
    }
    Value::Object(item)
}

/// Adds every declaration of one mount at `prefix` (`secret/`) for which
/// `visible` holds (given the path's literal part, `secret/data/`).
fn add_mount(
    paths: &mut Map<String, Value>,
    prefix: &str,
    defs: &[&PathDef],
    special: &SpecialPaths,
    visible: &dyn Fn(&str) -> bool,
) {
    for def in defs {
        let literal = def.pattern.split([':', '*']).next().unwrap_or("");
        if !visible(&format!("{prefix}{literal}")) {
            continue;
        }
        let (pattern, _) = openapi_pattern(def.pattern);
        let key = format!("/{prefix}{pattern}");
        // The first declaration that matches wins, as in the backend.
        if !paths.contains_key(&key) {
            paths.insert(key, path_item(def, special, &pattern));
        }
    }
}

/// The document for `caller`: every mount its policies reach.
pub(super) fn document(unsealed: &Unsealed, caller: &Caller) -> Response {
    let policies = caller
        .entry
        .as_ref()
        .map(|e| e.policies.as_slice())
        .unwrap_or_default();
    // Path by path, as for mounts: only what the policies reach.
    let visible = |literal: &str| unsealed.policies.has_access_under(policies, literal);
    let router = unsealed.router();
    let mut routes: Vec<_> = router.routes().collect();
    routes.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    let mut paths = Map::new();
    for route in routes {
        if !unsealed.policies.has_access_under(policies, &route.prefix) {
            continue;
        }
        match &route.backend {
            Some(backend) => add_mount(
                &mut paths,
                &route.prefix,
                &backend.paths(),
                &route.special,
                &visible,
            ),
            None => {
                let defs: Vec<&PathDef> = super::declared::SYS_PATHS.iter().collect();
                let special = SpecialPaths {
                    unauthenticated: SYS_UNAUTHENTICATED
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect(),
                    root: super::SUDO_PATHS.iter().map(|s| (*s).to_owned()).collect(),
                };
                add_mount(&mut paths, &route.prefix, &defs, &special, &visible);
            }
        }
    }
    let doc = json!({
        "openapi": "3.0.2",
        "info": {
            "title": "Coffer API (HashiCorp Vault API)",
            "description": "HTTP API that gives you full access to Coffer. All API routes are prefixed with `/v1/`.",
            "version": super::VERSION,
            "license": {"name": "MPL-2.0"},
        },
        "paths": paths,
        "components": {"schemas": {}},
    });
    Response::raw(doc, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_become_templated_paths() {
        assert_eq!(
            openapi_pattern("roles/:name/secret-id"),
            ("roles/{name}/secret-id".to_owned(), vec!["name"])
        );
        assert_eq!(
            openapi_pattern("data/*path"),
            ("data/{path}".to_owned(), vec!["path"])
        );
        assert_eq!(openapi_pattern("config"), ("config".to_owned(), vec![]));
    }

    #[test]
    fn field_types_map_to_schemas() {
        assert_eq!(schema(FieldType::Int)["type"], "integer");
        assert_eq!(schema(FieldType::Duration)["format"], "duration");
        assert_eq!(schema(FieldType::StringList)["items"]["type"], "string");
        assert!(schema(FieldType::Any).get("type").is_none());
    }

    #[test]
    fn items_carry_operations_fields_and_flags() {
        const FIELDS: &[coffer_sdk::FieldDef] =
            &[coffer_sdk::FieldDef::new("ttl", FieldType::Duration, "t")];
        let def = PathDef {
            pattern: "roles/:name",
            fields: FIELDS,
            operations: &[Operation::Read, Operation::Update, Operation::List],
            existence_check: true,
            synopsis: "s",
            description: "",
        };
        let special = SpecialPaths {
            unauthenticated: vec![],
            root: vec!["roles/*".into()],
        };
        let mut paths = Map::new();
        add_mount(&mut paths, "db/", &[&def], &special, &|_| true);
        let mut hidden = Map::new();
        add_mount(&mut hidden, "db/", &[&def], &special, &|p| p != "db/roles/");
        assert!(hidden.is_empty());
        let item = &paths["/db/roles/{name}"];
        assert_eq!(item["x-vault-sudo"], true);
        assert_eq!(item["x-vault-createSupported"], true);
        assert_eq!(item["parameters"][0]["name"], "name");
        assert_eq!(
            item["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["ttl"]
                ["format"],
            "duration"
        );
        assert_eq!(item["get"]["parameters"][0]["name"], "list");
        assert_eq!(
            item["x-coffer-operations"],
            json!(["read", "update", "list"])
        );
        assert!(item.get("delete").is_none());
    }
}
