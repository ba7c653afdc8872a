//! `sys/internal/specs/openapi`: Vault's OpenAPI 3 document of the mounted
//! backends, generated from their path declarations ([`Backend::paths`] and,
//! for `sys/`, the pieces' declarations and [`super::declared::SYS_PATHS`]
//! for the core's own handlers).
//!
//! It exists so that clients and tools can discover what each mount accepts,
//! and so the bad-request corpus (`crates/interfaces/cli/tests/e2e_bad_requests.rs`) is
//! generated from what the running server declares: a new engine is covered
//! as soon as it declares its paths. As in Vault, the document lists only
//! the mounts the caller's policies reach; path names use the mount paths as
//! mounted (`/secret/data/{path}`). Without a token it lists only the mounts
//! whose listing visibility is `unauth`, as Vault's does.
//!
//! [`Backend::paths`]: coffer_sdk::Backend::paths

use std::collections::HashSet;

use coffer_sdk::{FieldDef, FieldType, PathDef, SpecialPaths, special_path_matches};
use coffer_types::{Operation, Response};
use serde_json::{Map, Value, json};

use crate::router::Route;
use crate::unsealed::Unsealed;

/// The OpenAPI schema of a field type, as Vault's `convertType` maps its
/// field types: durations are strings of format `duration` (seconds or a Go
/// duration string), comma-string lists arrays of strings, maps objects of
/// format `map`. `Any` has no type: every JSON value is accepted.
fn schema(kind: FieldType) -> Map<String, Value> {
    let value = match kind {
        FieldType::String => json!({"type": "string"}),
        FieldType::Int => json!({"type": "integer"}),
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Duration => json!({"type": "string", "format": "duration"}),
        FieldType::StringList => json!({"type": "array", "items": {"type": "string"}}),
        FieldType::Map => json!({"type": "object", "format": "map"}),
        FieldType::Any => json!({}),
    };
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Vault's `cleanString`: trimmed, whitespace runs made one space.
fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A declared field's schema: type and format, description, default, and
/// Vault's `x-vault-displayAttrs: {sensitive: true}` for secrets.
fn field_schema(field: &FieldDef) -> Value {
    let mut s = schema(field.kind);
    let description = clean(field.description);
    if !description.is_empty() {
        s.insert("description".into(), json!(description));
    }
    if let Some(default) = field.default {
        s.insert("default".into(), default.to_json());
    }
    if field.sensitive {
        s.insert("x-vault-displayAttrs".into(), json!({"sensitive": true}));
    }
    Value::Object(s)
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

/// Vault's `list` query parameter: optional on a path that is also read,
/// required (and only `true`) on a list-only path.
fn list_parameter(also_read: bool) -> Value {
    if also_read {
        json!({"name": "list", "in": "query", "description": "Return a list if `true`",
               "schema": {"type": "string"}})
    } else {
        json!({"name": "list", "in": "query", "description": "Must be set to `true`",
               "required": true, "schema": {"type": "string", "enum": ["true"]}})
    }
}

/// Lower-case words of `text` joined by `-` (Vault's operation id style).
fn hyphenated(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// The document under construction.
#[derive(Default)]
struct Doc {
    paths: Map<String, Value>,
    operation_ids: HashSet<String>,
}

/// One mount as the document sees it.
struct Mount<'a> {
    /// The mount path with its trailing slash (`secret/`, `auth/userpass/`).
    prefix: &'a str,
    /// Its declarations, in matching order.
    defs: &'a [&'a PathDef],
    /// Its unauthenticated and sudo globs, relative to the mount.
    special: &'a SpecialPaths,
}

impl Mount<'_> {
    /// Vault's operation tag: `system` for `sys/`, `identity`, `auth` for
    /// auth methods, `secrets` for secrets engines.
    fn tag(&self) -> &'static str {
        match self.prefix {
            "sys/" => "system",
            "identity/" => "identity",
            p if p.starts_with("auth/") => "auth",
            _ => "secrets",
        }
    }
}

impl Doc {
    /// A unique operation id: `<mount>-<verb>-<path>`, with `-2`, `-3`...
    /// when two paths hyphenate alike.
    fn operation_id(&mut self, prefix: &str, verb: &str, relative: &str) -> String {
        let base = [hyphenated(prefix), verb.to_owned(), hyphenated(relative)]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let mut id = base.clone();
        let mut n = 1;
        while !self.operation_ids.insert(id.clone()) {
            n += 1;
            id = format!("{base}-{n}");
        }
        id
    }

    /// One operation object (`get`, `post`, `patch` or `delete`).
    fn operation(
        &mut self,
        mount: &Mount<'_>,
        def: &PathDef,
        relative: &str,
        op: Operation,
        params: &[&str],
    ) -> Value {
        let verb = match op {
            Operation::Update | Operation::Create => "write",
            other => other.as_str(),
        };
        let mut out = Map::new();
        out.insert("summary".into(), json!(clean(def.synopsis)));
        let description = clean(def.description);
        if !description.is_empty() {
            out.insert("description".into(), json!(description));
        }
        out.insert(
            "operationId".into(),
            json!(self.operation_id(mount.prefix, verb, relative)),
        );
        out.insert("tags".into(), json!([mount.tag()]));
        if op == Operation::List {
            out.insert("parameters".into(), json!([list_parameter(false)]));
        }
        if matches!(op, Operation::Update | Operation::Patch) {
            let body: Vec<&FieldDef> = def
                .fields
                .iter()
                .filter(|f| !params.contains(&f.name))
                .collect();
            if !body.is_empty() {
                let properties: Map<String, Value> = body
                    .iter()
                    .map(|f| (f.name.to_owned(), field_schema(f)))
                    .collect();
                let mut required: Vec<&str> =
                    body.iter().filter(|f| f.required).map(|f| f.name).collect();
                required.sort_unstable();
                let mut schema = Map::new();
                schema.insert("type".into(), json!("object"));
                schema.insert("properties".into(), Value::Object(properties));
                // OpenAPI 3.0 forbids an empty `required` list.
                if !required.is_empty() {
                    schema.insert("required".into(), json!(required));
                }
                out.insert(
                    "requestBody".into(),
                    json!({"required": true, "content": {"application/json": {"schema": schema}}}),
                );
            }
        }
        let responses = if op == Operation::Delete {
            json!({"204": {"description": "empty body"}})
        } else {
            json!({"200": {"description": "OK"}})
        };
        out.insert("responses".into(), responses);
        Value::Object(out)
    }

    /// The path item of one declaration.
    fn path_item(&mut self, mount: &Mount<'_>, def: &PathDef) -> Value {
        let (relative, params) = openapi_pattern(def.pattern);
        let mut item = Map::new();
        item.insert("description".into(), json!(clean(def.synopsis)));
        if !params.is_empty() {
            let mut sorted = params.clone();
            sorted.sort_unstable();
            let params: Vec<Value> = sorted
                .iter()
                .map(|name| {
                    let field = def.fields.iter().find(|f| f.name == *name);
                    let mut p = Map::new();
                    p.insert("name".into(), json!(name));
                    if let Some(desc) = field.map(|f| clean(f.description))
                        && !desc.is_empty()
                    {
                        p.insert("description".into(), json!(desc));
                    }
                    p.insert("in".into(), json!("path"));
                    // A path segment is a string whatever the field's type.
                    p.insert("schema".into(), json!({"type": "string"}));
                    p.insert("required".into(), json!(true));
                    Value::Object(p)
                })
                .collect();
            item.insert("parameters".into(), Value::Array(params));
        }
        // The same globs the pipeline checks, matched against the
        // templated path as Vault's `specialPathMatch` does.
        if special_path_matches(&mount.special.root, &relative) {
            item.insert("x-vault-sudo".into(), json!(true));
        }
        if special_path_matches(&mount.special.unauthenticated, &relative) {
            item.insert("x-vault-unauthenticated".into(), json!(true));
        }
        let ops = def.operations;
        let writes = ops.contains(&Operation::Update) || ops.contains(&Operation::Create);
        if def.existence_check && writes {
            item.insert("x-vault-createSupported".into(), json!(true));
        }
        // What the bad-request corpus reads: the declared operations.
        item.insert(
            "x-coffer-operations".into(),
            json!(ops.iter().map(|o| o.as_str()).collect::<Vec<_>>()),
        );
        if ops.contains(&Operation::Read) {
            let op = self.operation(mount, def, &relative, Operation::Read, &params);
            item.insert("get".into(), op);
        }
        if ops.contains(&Operation::List) {
            match item.get_mut("get") {
                // Read and list share the GET: the `list` parameter picks.
                Some(Value::Object(get)) => {
                    get.insert("parameters".into(), json!([list_parameter(true)]));
                }
                _ => {
                    let op = self.operation(mount, def, &relative, Operation::List, &params);
                    item.insert("get".into(), op);
                }
            }
        }
        if writes {
            let op = self.operation(mount, def, &relative, Operation::Update, &params);
            item.insert("post".into(), op);
        }
        if ops.contains(&Operation::Patch) {
            let op = self.operation(mount, def, &relative, Operation::Patch, &params);
            item.insert("patch".into(), op);
        }
        if ops.contains(&Operation::Delete) {
            let op = self.operation(mount, def, &relative, Operation::Delete, &params);
            item.insert("delete".into(), op);
        }
        Value::Object(item)
    }

    /// Adds every declaration of `mount` for which `visible` holds (given
    /// the path's literal part, `secret/data/`).
    fn add_mount(&mut self, mount: &Mount<'_>, visible: &dyn Fn(&str) -> bool) {
        for def in mount.defs {
            let literal = def.pattern.split([':', '*']).next().unwrap_or("");
            if !visible(&format!("{}{literal}", mount.prefix)) {
                continue;
            }
            let (pattern, _) = openapi_pattern(def.pattern);
            let key = format!("/{}{pattern}", mount.prefix);
            // The first declaration that matches wins, as in the backend.
            if !self.paths.contains_key(&key) {
                let item = self.path_item(mount, def);
                self.paths.insert(key, item);
            }
        }
    }
}

/// The document for a token with `policies`: every mount they reach.
pub(super) fn document(unsealed: &Unsealed, policies: &[String]) -> Response {
    // Path by path, as for mounts: only what the policies reach.
    let visible = |literal: &str| unsealed.policies.has_access_under(policies, literal);
    build(
        unsealed,
        &|route| unsealed.policies.has_access_under(policies, &route.prefix),
        &visible,
    )
}

/// The document for a request without a token, as Vault's
/// `pathInternalOpenAPI` builds it from `pathInternalUIMountsRead`: only the
/// mounts whose listing visibility is `unauth`, each whole. `sys/` follows
/// the same rule (absent unless tuned `unauth`).
pub(super) fn unauthenticated_document(unsealed: &Unsealed) -> Response {
    build(
        unsealed,
        &|route| route.entry.config.listing_visibility == "unauth",
        &|_| true,
    )
}

/// The document of the mounts `mount_visible` admits, each restricted to the
/// paths `path_visible` admits (given the path's literal part).
fn build(
    unsealed: &Unsealed,
    mount_visible: &dyn Fn(&Route) -> bool,
    path_visible: &dyn Fn(&str) -> bool,
) -> Response {
    let router = unsealed.router();
    let mut routes: Vec<_> = router.routes().collect();
    routes.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    let mut doc = Doc::default();
    for route in routes {
        if !mount_visible(route) {
            continue;
        }
        let defs = route.backend.published_paths();
        let mount = Mount {
            prefix: &route.prefix,
            defs: &defs,
            special: &route.special,
        };
        doc.add_mount(&mount, path_visible);
    }
    let doc = json!({
        "openapi": "3.0.2",
        "info": {
            "title": "Coffer API (HashiCorp Vault API)",
            "description": "HTTP API that gives you full access to Coffer. All API routes are prefixed with `/v1/`.",
            "version": super::VERSION,
            "license": {"name": "MPL-2.0"},
        },
        "paths": doc.paths,
        "components": {"schemas": {}},
    });
    Response::raw(doc, 200)
}

#[cfg(test)]
mod tests {
    use coffer_sdk::FieldDefault;

    use super::*;

    const ROLE_FIELDS: &[FieldDef] = &[
        FieldDef::new("name", FieldType::String, "The  role's\n   name."),
        FieldDef::new("ttl", FieldType::Duration, "t").default(FieldDefault::Int(3600)),
        FieldDef::new("password", FieldType::String, "p")
            .required()
            .sensitive(),
        FieldDef::new("db_name", FieldType::String, "d").required(),
        FieldDef::new("tags", FieldType::StringList, ""),
    ];

    const ROLE: PathDef = PathDef {
        pattern: "roles/:name",
        fields: ROLE_FIELDS,
        operations: &[Operation::Read, Operation::Update, Operation::Delete],
        existence_check: true,
        synopsis: "Manage   roles.",
        description: "Long\n\ndescription.",
    };

    const ROLES: PathDef = PathDef {
        pattern: "roles/",
        fields: &[],
        operations: &[Operation::List],
        existence_check: false,
        synopsis: "List roles.",
        description: "",
    };

    const LOGIN: PathDef = PathDef {
        pattern: "login/:username",
        fields: &[FieldDef::new("password", FieldType::String, "p").sensitive()],
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Log in.",
        description: "",
    };

    const DATA: PathDef = PathDef {
        pattern: "data/*path",
        fields: &[FieldDef::new("data", FieldType::Map, "d")],
        operations: &[
            Operation::Read,
            Operation::List,
            Operation::Update,
            Operation::Patch,
        ],
        existence_check: false,
        synopsis: "Data.",
        description: "",
    };

    fn special() -> SpecialPaths {
        SpecialPaths {
            unauthenticated: vec!["login/+".into()],
            root: vec!["roles/*".into()],
        }
    }

    fn document_of(prefix: &str, defs: &[&PathDef]) -> Map<String, Value> {
        let special = special();
        let mount = Mount {
            prefix,
            defs,
            special: &special,
        };
        let mut doc = Doc::default();
        doc.add_mount(&mount, &|_| true);
        doc.paths
    }

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
    fn field_types_map_as_vault_maps_them() {
        assert_eq!(schema(FieldType::Int)["type"], "integer");
        assert_eq!(schema(FieldType::Bool)["type"], "boolean");
        assert_eq!(schema(FieldType::Duration)["type"], "string");
        assert_eq!(schema(FieldType::Duration)["format"], "duration");
        assert_eq!(schema(FieldType::StringList)["type"], "array");
        assert_eq!(schema(FieldType::StringList)["items"]["type"], "string");
        assert_eq!(schema(FieldType::Map)["type"], "object");
        assert_eq!(schema(FieldType::Map)["format"], "map");
        assert!(schema(FieldType::Any).is_empty());
    }

    #[test]
    fn a_path_item_has_vaults_shape() {
        let paths = document_of("db/", &[&ROLE]);
        let item = &paths["/db/roles/{name}"];
        assert_eq!(item["description"], "Manage roles.");
        assert_eq!(item["x-vault-sudo"], true);
        assert!(item.get("x-vault-unauthenticated").is_none());
        assert_eq!(item["x-vault-createSupported"], true);
        assert_eq!(
            item["parameters"],
            json!([{"name": "name", "description": "The role's name.", "in": "path",
                    "schema": {"type": "string"}, "required": true}])
        );
        assert_eq!(
            item["x-coffer-operations"],
            json!(["read", "update", "delete"])
        );

        let get = &item["get"];
        assert_eq!(get["summary"], "Manage roles.");
        assert_eq!(get["description"], "Long description.");
        assert_eq!(get["operationId"], "db-read-roles-name");
        assert_eq!(get["tags"], json!(["secrets"]));
        assert_eq!(get["responses"], json!({"200": {"description": "OK"}}));
        assert!(get.get("requestBody").is_none());
        assert!(get.get("parameters").is_none());
        assert_eq!(
            item["delete"]["responses"],
            json!({"204": {"description": "empty body"}})
        );
        assert_eq!(item["delete"]["operationId"], "db-delete-roles-name");
        assert!(item.get("patch").is_none());

        let post = &item["post"];
        assert_eq!(post["operationId"], "db-write-roles-name");
        assert_eq!(post["requestBody"]["required"], true);
        let body = &post["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["type"], "object");
        // The path parameter is not a body field.
        let props = body["properties"].as_object().unwrap();
        let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["db_name", "password", "tags", "ttl"]);
        assert_eq!(body["required"], json!(["db_name", "password"]));
        assert_eq!(
            props["ttl"],
            json!({"type": "string", "format": "duration", "description": "t", "default": 3600})
        );
        assert_eq!(
            props["password"],
            json!({"type": "string", "description": "p",
                   "x-vault-displayAttrs": {"sensitive": true}})
        );
        // An empty description is left out, as Vault's omitempty does.
        assert_eq!(
            props["tags"],
            json!({"type": "array", "items": {"type": "string"}})
        );
    }

    #[test]
    fn list_read_patch_and_unauthenticated_paths() {
        let paths = document_of("auth/up/", &[&ROLES, &LOGIN, &DATA]);
        let list = &paths["/auth/up/roles/"];
        assert_eq!(
            list["get"]["parameters"],
            json!([{"name": "list", "in": "query", "description": "Must be set to `true`",
                    "required": true, "schema": {"type": "string", "enum": ["true"]}}])
        );
        assert_eq!(list["get"]["operationId"], "auth-up-list-roles");
        assert_eq!(list["get"]["tags"], json!(["auth"]));
        // `roles/*` covers the list path too.
        assert_eq!(list["x-vault-sudo"], true);
        assert!(list.get("post").is_none());

        let login = &paths["/auth/up/login/{username}"];
        assert_eq!(login["x-vault-unauthenticated"], true);
        assert!(login.get("x-vault-sudo").is_none());
        assert!(login.get("x-vault-createSupported").is_none());
        let body = &login["post"]["requestBody"]["content"]["application/json"]["schema"];
        // No required field: no `required` list (OpenAPI 3.0 wants it non-empty).
        assert!(body.get("required").is_none());

        let data = &paths["/auth/up/data/{path}"];
        assert_eq!(
            data["get"]["parameters"],
            json!([{"name": "list", "in": "query", "description": "Return a list if `true`",
                    "schema": {"type": "string"}}])
        );
        assert_eq!(data["get"]["operationId"], "auth-up-read-data-path");
        assert_eq!(data["patch"]["operationId"], "auth-up-patch-data-path");
        assert_eq!(
            data["patch"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["data"]
                ["format"],
            "map"
        );
        assert!(data.get("x-vault-unauthenticated").is_none());
    }

    #[test]
    fn operation_ids_are_unique() {
        let mut doc = Doc::default();
        assert_eq!(doc.operation_id("a/", "read", "b-c"), "a-read-b-c");
        assert_eq!(doc.operation_id("a/", "read", "b/c"), "a-read-b-c-2");
        assert_eq!(doc.operation_id("a/", "read", "b_c"), "a-read-b_c");
        assert_eq!(doc.operation_id("a/", "read", "B/c"), "a-read-b-c-3");
    }

    #[test]
    fn tags_follow_the_mount_kind() {
        let special = SpecialPaths::default();
        let tag = |prefix| {
            Mount {
                prefix,
                defs: &[],
                special: &special,
            }
            .tag()
        };
        assert_eq!(tag("sys/"), "system");
        assert_eq!(tag("identity/"), "identity");
        assert_eq!(tag("auth/token/"), "auth");
        assert_eq!(tag("secret/"), "secrets");
    }

    #[test]
    fn hidden_paths_and_later_duplicates_are_left_out() {
        let special = special();
        let shadow = PathDef {
            synopsis: "shadowed",
            ..ROLE
        };
        let mount = Mount {
            prefix: "db/",
            defs: &[&ROLE, &shadow, &ROLES],
            special: &special,
        };
        let mut doc = Doc::default();
        doc.add_mount(&mount, &|literal| literal != "db/roles/");
        assert!(doc.paths.is_empty());
        let mut doc = Doc::default();
        doc.add_mount(&mount, &|_| true);
        assert_eq!(doc.paths.len(), 2);
        assert_eq!(
            doc.paths["/db/roles/{name}"]["description"],
            "Manage roles."
        );
    }

    #[test]
    fn descriptions_are_cleaned() {
        assert_eq!(clean("  a\n\n b\tc  "), "a b c");
        assert_eq!(hyphenated("auth/user-pass/"), "auth-user-pass");
    }
}
