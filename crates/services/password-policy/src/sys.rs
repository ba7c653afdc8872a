//! The `sys/policies/password` endpoints, with Vault's paths, fields,
//! status codes and messages: the password policies' piece of the `sys/`
//! backend. [`PasswordPolicyStore`] is itself that piece (a
//! [`coffer_sdk::Backend`] over a path table declared relative to `sys/`);
//! it keeps its own storage, so handlers never touch the context's view.

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value};

use crate::store::PasswordPolicyStore;

const NAME: FieldDef = FieldDef::new(
    "name",
    FieldType::String,
    "The name of the password policy.",
)
.required();

const POLICY_FIELDS: &[FieldDef] = &[
    NAME,
    FieldDef::new(
        "policy",
        FieldType::String,
        "The password policy document (HCL or JSON, plain or base64).",
    )
    .required(),
];

const GENERATE_FIELDS: &[FieldDef] = &[NAME];

fn list_def() -> PathDef {
    PathDef {
        pattern: "policies/password",
        fields: &[],
        operations: &[Operation::List],
        existence_check: false,
        synopsis: "List the password policies.",
        description: "The names of every stored password policy; 404 when there are none.",
    }
}

fn policy_def() -> PathDef {
    PathDef {
        pattern: "policies/password/:name",
        fields: POLICY_FIELDS,
        operations: &[Operation::Read, Operation::Update, Operation::Delete],
        existence_check: false,
        synopsis: "Write, read or delete a password policy.",
        description: "A password policy says how passwords are generated: a length and charset rules. \
             Writing validates the policy (it must be able to generate a password) and stores it; \
             reading returns the stored text; deleting removes it.",
    }
}

fn generate_def() -> PathDef {
    PathDef {
        pattern: "policies/password/:name/generate",
        fields: GENERATE_FIELDS,
        operations: &[Operation::Read],
        existence_check: false,
        synopsis: "Generate a password from a password policy.",
        description: "A fresh password drawn from the operating system's random number generator that \
             satisfies every rule of the named policy.",
    }
}

/// The piece's paths, relative to `sys/`. `:name` before `:name/generate`
/// is unambiguous: each pattern has a fixed number of segments, so
/// `policies/password/generate` is the policy named `generate`.
static TABLE: LazyLock<PathTable<PasswordPolicyStore>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(list_def()).list(handler!(list)),
        Path::new(policy_def())
            .read(handler!(read))
            .update(handler!(write))
            .delete(handler!(delete)),
        Path::new(generate_def()).read(handler!(generate)),
    ])
});

/// The `policy` parameter, base64-decoded when it is valid base64 of UTF-8
/// text (Vault accepts either form); absent or empty is Vault's 400
/// `missing policy`.
fn policy_text(call: &Call<'_>) -> Result<String> {
    let raw = call
        .fields
        .get_string("policy")?
        .filter(|s| !s.is_empty())
        .ok_or(crate::PasswordPolicyError::MissingPolicy)?;
    Ok(STANDARD
        .decode(&raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or(raw))
}

fn data(key: &str, value: Value) -> Response {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Response::with_data(map)
}

/// `policies/password` (list): the names, 404 when there are none.
async fn list(store: &PasswordPolicyStore, _call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(store.list().await?)
}

/// `policies/password/:name` (read): `{policy}`, 404 `policy does not exist`.
async fn read(store: &PasswordPolicyStore, call: &Call<'_>) -> Result<Option<Response>> {
    let text = store
        .get(call.capture("name"))
        .await?
        .ok_or(crate::PasswordPolicyError::NotFound)?;
    Ok(Some(data("policy", Value::String(text))))
}

/// `policies/password/:name` (create/update): validates and stores `policy`
/// (400 with Vault's message, and line and column for syntax errors, when
/// invalid); 204.
async fn write(store: &PasswordPolicyStore, call: &Call<'_>) -> Result<Option<Response>> {
    let text = policy_text(call)?;
    store.put(call.capture("name"), &text).await.map_err(|e| {
        let invalid = e.is_invalid_policy();
        let err = Error::from(e);
        if invalid {
            err.context("invalid password policy")
        } else {
            err
        }
    })?;
    Ok(None)
}

/// `policies/password/:name` (delete): 204, also when absent.
async fn delete(store: &PasswordPolicyStore, call: &Call<'_>) -> Result<Option<Response>> {
    store.delete(call.capture("name")).await?;
    Ok(None)
}

/// `policies/password/:name/generate` (read): `{password}`, 404 when the
/// policy does not exist.
async fn generate(store: &PasswordPolicyStore, call: &Call<'_>) -> Result<Option<Response>> {
    let password = store.generate(call.capture("name")).await?;
    Ok(Some(data(
        "password",
        Value::String(password.expose().to_owned()),
    )))
}

/// The `sys/` piece: `req.relative_path` is relative to `sys/`.
/// - `policies/password` (list): `{keys}`, 404 when there are none;
/// - `policies/password/:name`: update/create stores `policy`, read answers
///   `{policy}`, delete removes it (204);
/// - `policies/password/:name/generate` (read): `{password}`.
impl Backend for PasswordPolicyStore {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}
#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::UNIX_EPOCH;

    use coffer_sdk::{Context, ManualClock, MountConfig, Services, special_path_matches};
    use coffer_storage::{MemoryStorage, Prefix, View};
    use coffer_types::Request;
    use serde_json::json;

    use super::*;

    const TEXT: &str = "length = 12\nrule \"charset\" {\n  charset = \"abc\"\n  min-chars = 2\n}\nrule \"charset\" {\n  charset = \"789\"\n  min-chars = 2\n}\n";

    fn store() -> PasswordPolicyStore {
        let mem = Arc::new(MemoryStorage::new());
        PasswordPolicyStore::new(View::new(mem, Prefix::new("sys/").unwrap()))
    }

    /// The `sys/` mount's context as core hands it to the piece (the
    /// piece ignores its storage: it keeps its own).
    fn ctx() -> Context {
        Context {
            storage: View::new(Arc::new(MemoryStorage::new()), Prefix::new("sys/").unwrap()),
            config: MountConfig::default(),
            clock: Arc::new(ManualClock::new(UNIX_EPOCH)),
            services: Services::default(),
        }
    }

    /// `op` on `rel` (relative to `sys/`) with `body`, through the table.
    async fn call(
        s: &PasswordPolicyStore,
        rel: &str,
        op: Operation,
        body: Value,
    ) -> Result<Option<Response>> {
        let Value::Object(map) = body else {
            panic!("body must be an object")
        };
        s.handle(&ctx(), &Request::new(op, rel).with_data(map))
            .await
    }

    fn only_data(resp: Option<Response>) -> Map<String, Value> {
        resp.unwrap().data.unwrap()
    }

    #[test]
    fn declarations_are_vaults() {
        let s = store();
        let decls: Vec<_> = s
            .paths()
            .iter()
            .map(|d| {
                let fields: Vec<_> = d.fields.iter().map(|f| (f.name, f.required)).collect();
                (d.pattern, d.operations.to_vec(), fields)
            })
            .collect();
        assert_eq!(
            decls,
            vec![
                ("policies/password", vec![Operation::List], vec![]),
                (
                    "policies/password/:name",
                    vec![Operation::Read, Operation::Update, Operation::Delete],
                    vec![("name", true), ("policy", true)],
                ),
                (
                    "policies/password/:name/generate",
                    vec![Operation::Read],
                    vec![("name", true)],
                ),
            ]
        );
        let special = s.special_paths();
        assert!(special.unauthenticated.is_empty() && special.root.is_empty());
        for p in [
            "policies/password",
            "policies/password/p",
            "policies/password/p/generate",
        ] {
            assert!(!special_path_matches(&special.root, p), "{p} needs no sudo");
        }
    }

    #[test]
    fn paths_match() {
        let s = store();
        let matching = |rel: &str| s.paths().iter().find(|d| d.matches(rel)).map(|d| d.pattern);
        assert_eq!(matching("policies/password"), Some("policies/password"));
        assert_eq!(matching("policies/password/"), Some("policies/password"));
        assert_eq!(
            matching("policies/password/p"),
            Some("policies/password/:name")
        );
        assert_eq!(
            matching("policies/password/generate"),
            Some("policies/password/:name"),
            "a policy may be called generate"
        );
        assert_eq!(
            matching("policies/password/p/generate"),
            Some("policies/password/:name/generate")
        );
        assert_eq!(matching("policies/password/p/x"), None);
        assert_eq!(matching("policies/passwordx"), None);
        assert_eq!(matching("policies/acl/p"), None);
        assert_eq!(matching("policies/password/../a"), None);
    }

    #[tokio::test]
    async fn crud_and_generate_have_vaults_shapes() {
        let s = store();
        let err = call(&s, "policies/password", Operation::List, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);

        let put = call(
            &s,
            "policies/password/p",
            Operation::Update,
            json!({ "policy": TEXT }),
        )
        .await;
        assert!(put.unwrap().is_none(), "204");
        let encoded = STANDARD.encode(TEXT);
        let put = call(
            &s,
            "policies/password/b64",
            Operation::Create,
            json!({ "policy": encoded }),
        )
        .await;
        assert!(put.unwrap().is_none());

        let read = only_data(
            call(&s, "policies/password/b64", Operation::Read, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(
            Value::Object(read),
            json!({ "policy": TEXT }),
            "stored decoded, as Vault does"
        );

        let list = only_data(
            call(&s, "policies/password/", Operation::List, json!({}))
                .await
                .unwrap(),
        );
        assert_eq!(Value::Object(list), json!({ "keys": ["b64", "p"] }));

        let resp = call(
            &s,
            "policies/password/p/generate",
            Operation::Read,
            json!({}),
        )
        .await
        .unwrap();
        let shown = format!("{resp:?}");
        let generated = only_data(resp);
        assert_eq!(generated.keys().collect::<Vec<_>>(), ["password"]);
        let pw = generated["password"].as_str().unwrap();
        assert_eq!(pw.chars().count(), 12);
        assert!(pw.chars().filter(|c| "abc".contains(*c)).count() >= 2);
        assert!(pw.chars().filter(|c| "789".contains(*c)).count() >= 2);
        assert!(!shown.contains(pw), "the password never shows in Debug");

        assert!(
            call(&s, "policies/password/p", Operation::Delete, json!({}))
                .await
                .unwrap()
                .is_none()
        );
        let err = call(&s, "policies/password/p", Operation::Read, json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (404, &["policy does not exist".to_owned()][..])
        );
        let err = call(
            &s,
            "policies/password/p/generate",
            Operation::Read,
            json!({}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status(), 404);
    }

    #[tokio::test]
    async fn bad_input_gets_vaults_400s() {
        let s = store();
        let put = |body: Value| {
            let s = s.clone();
            async move {
                call(&s, "policies/password/p", Operation::Update, body)
                    .await
                    .unwrap_err()
            }
        };
        let e = put(json!({})).await;
        assert_eq!(
            (e.status(), e.to_string()),
            (400, "missing policy".to_owned())
        );
        let e = put(json!({ "policy": "" })).await;
        assert_eq!(e.to_string(), "missing policy");
        let e = put(json!({ "policy": 5 })).await;
        assert_eq!(e.status(), 400);
        let e =
            put(json!({ "policy": "length = 20\nrule \"charset\" {\n  charset = \"abc\n}" })).await;
        assert_eq!(e.status(), 400);
        assert!(
            e.to_string().starts_with(
                "invalid password policy: unable to decode: syntax error on line 3, column"
            ),
            "{e}"
        );
        let e = put(json!({ "policy": "length = 20" })).await;
        assert_eq!(
            e.to_string(),
            "invalid password policy: no charset specified"
        );
        let e =
            put(json!({ "policy": "length = 200\nrule \"charset\" { charset = \"a\" }" })).await;
        assert_eq!(
            e.to_string(),
            "passwords must be between 4 and 100 characters"
        );
        let e = put(json!({ "policy": "length = 4\nrule \"charset\" {\n charset = \"a\"\n min-chars = 5\n}" })).await;
        assert_eq!(
            e.to_string(),
            "invalid password policy: specified rules require at least 5 characters but 4 is specified"
        );
        let err = call(&s, "policies/password", Operation::List, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404, "nothing was stored");
    }

    #[tokio::test]
    async fn wrong_operations_and_paths() {
        let s = store();
        let e = call(
            &s,
            "policies/password/p/generate",
            Operation::Update,
            json!({}),
        )
        .await
        .unwrap_err();
        assert_eq!(e.status(), 405);
        let e = call(&s, "policies/password", Operation::Read, json!({}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), 405);
        let e = call(&s, "policies/password/p", Operation::List, json!({}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), 405);
        let e = call(&s, "policies/password/a/b/c", Operation::Read, json!({}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), 404);
    }

    #[tokio::test]
    async fn invalid_names_are_404s() {
        let s = store();
        for (op, rel) in [
            (Operation::Read, "policies/password/-a"),
            (Operation::Delete, "policies/password/a~"),
            (Operation::Read, "policies/password/.a/generate"),
        ] {
            let e = call(&s, rel, op, json!({})).await.unwrap_err();
            assert_eq!(e.status(), 404, "{rel}");
        }
        let e = call(
            &s,
            "policies/password/a b",
            Operation::Update,
            json!({ "policy": TEXT }),
        )
        .await
        .unwrap_err();
        assert_eq!(e.status(), 404);
        assert!(s.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn unknown_fields_are_warned_about() {
        let s = store();
        let resp = call(
            &s,
            "policies/password/p",
            Operation::Update,
            json!({ "policy": TEXT, "rules": "x", "length": 3 }),
        )
        .await
        .unwrap()
        .expect("a warning instead of a 204");
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [length rules]"]
        );
        assert!(resp.data.is_none());
        assert!(s.get("p").await.unwrap().is_some(), "still written");
    }

    #[tokio::test]
    async fn help_comes_from_the_declaration() {
        let s = store();
        let resp = call(
            &s,
            "policies/password/p/generate",
            Operation::Help,
            json!({}),
        )
        .await
        .unwrap()
        .unwrap();
        let help = resp.data.unwrap()["help"].as_str().unwrap().to_owned();
        assert!(
            help.contains("Generate a password from a password policy."),
            "{help}"
        );
        assert!(help.contains("name (string)"), "{help}");
    }
}
