//! The `sys/policies/password` endpoints, with Vault's paths, fields,
//! status codes and messages.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Map, Value};

use crate::error::PasswordPolicyError;
use crate::store::{PasswordPolicyStore, valid_name};

/// One endpoint, parsed from the path relative to `sys/`.
#[derive(Debug, PartialEq, Eq)]
enum Endpoint<'a> {
    /// `policies/password` (list)
    List,
    /// `policies/password/:name`
    Policy(&'a str),
    /// `policies/password/:name/generate`
    Generate(&'a str),
}

fn parse(relative: &str) -> Option<Endpoint<'_>> {
    let rest = relative.strip_prefix("policies/password")?;
    if rest.is_empty() || rest == "/" {
        return Some(Endpoint::List);
    }
    let rest = rest.strip_prefix('/')?;
    if valid_name(rest) {
        return Some(Endpoint::Policy(rest));
    }
    let name = rest.strip_suffix("/generate")?;
    valid_name(name).then_some(Endpoint::Generate(name))
}

/// `Create` counts as `Update` (the existence check may have turned one into
/// the other).
fn allow(op: Operation, allowed: &[Operation]) -> Result<()> {
    let op = if op == Operation::Create {
        Operation::Update
    } else {
        op
    };
    if allowed.contains(&op) {
        Ok(())
    } else {
        Err(PasswordPolicyError::UnsupportedOperation.into())
    }
}

/// The `policy` parameter, base64-decoded when it is valid base64 of UTF-8
/// text (Vault accepts either form).
fn policy_text(req: &Request) -> Result<String, PasswordPolicyError> {
    let raw = match req.data.get("policy") {
        None | Some(Value::Null) => return Err(PasswordPolicyError::MissingPolicy),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(PasswordPolicyError::PolicyNotString),
    };
    if raw.is_empty() {
        return Err(PasswordPolicyError::MissingPolicy);
    }
    Ok(STANDARD
        .decode(raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| raw.to_owned()))
}

fn data(key: &str, value: Value) -> Response {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Response::with_data(map)
}

impl PasswordPolicyStore {
    /// Whether `relative` (a path under `sys/`) is one of the password
    /// policy endpoints [`PasswordPolicyStore::handle_sys`] answers.
    pub fn handles_sys_path(relative: &str) -> bool {
        parse(relative).is_some()
    }

    /// Answers a password policy endpoint; `relative` is the path under
    /// `sys/`:
    /// - `policies/password` (list): `{keys}`, 404 when there are none;
    /// - `policies/password/:name`: update/create stores `policy` (HCL or
    ///   JSON, plain or base64; 400 with Vault's message, and line and
    ///   column for syntax errors, when invalid; 204), read answers
    ///   `{policy}` (404 `policy does not exist`), delete removes it (204);
    /// - `policies/password/:name/generate` (read): `{password}`, 404 when
    ///   the policy does not exist.
    ///
    /// `Ok(None)` is a 204.
    pub async fn handle_sys(&self, relative: &str, req: &Request) -> Result<Option<Response>> {
        let Some(endpoint) = parse(relative) else {
            return Err(PasswordPolicyError::UnsupportedPath.into());
        };
        let op = req.op();
        match endpoint {
            Endpoint::List => {
                allow(op, &[Operation::List])?;
                let keys = self.list().await?;
                if keys.is_empty() {
                    return Err(Error::not_found());
                }
                Ok(Some(data("keys", Value::from(keys))))
            }
            Endpoint::Policy(name) => match op {
                Operation::Read => {
                    let text = self.get(name).await?.ok_or(PasswordPolicyError::NotFound)?;
                    Ok(Some(data("policy", Value::String(text))))
                }
                Operation::Delete => {
                    self.delete(name).await?;
                    Ok(None)
                }
                _ => {
                    allow(op, &[Operation::Update])?;
                    let text = policy_text(req)?;
                    self.put(name, &text).await.map_err(|e| {
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
            },
            Endpoint::Generate(name) => {
                allow(op, &[Operation::Read])?;
                let password = self.generate(name).await?;
                Ok(Some(data(
                    "password",
                    Value::String(password.expose().to_owned()),
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use coffer_storage::{MemoryStorage, Prefix, View};
    use serde_json::json;

    use super::*;

    const TEXT: &str = "length = 12\nrule \"charset\" {\n  charset = \"abc\"\n  min-chars = 2\n}\nrule \"charset\" {\n  charset = \"789\"\n  min-chars = 2\n}\n";

    fn store() -> PasswordPolicyStore {
        let mem = Arc::new(MemoryStorage::new());
        PasswordPolicyStore::new(View::new(mem, Prefix::new("sys/").unwrap()))
    }

    fn req(op: Operation, body: Value) -> Request {
        let Value::Object(map) = body else {
            panic!("body must be an object")
        };
        Request::new(op, "sys/policies/password").with_data(map)
    }

    async fn call(
        s: &PasswordPolicyStore,
        rel: &str,
        op: Operation,
        body: Value,
    ) -> Result<Option<Response>> {
        s.handle_sys(rel, &req(op, body)).await
    }

    fn only_data(resp: Option<Response>) -> Map<String, Value> {
        resp.unwrap().data.unwrap()
    }

    #[test]
    fn paths_parse() {
        assert_eq!(parse("policies/password"), Some(Endpoint::List));
        assert_eq!(parse("policies/password/"), Some(Endpoint::List));
        assert_eq!(parse("policies/password/p"), Some(Endpoint::Policy("p")));
        assert_eq!(
            parse("policies/password/generate"),
            Some(Endpoint::Policy("generate"))
        );
        assert_eq!(
            parse("policies/password/p/generate"),
            Some(Endpoint::Generate("p"))
        );
        assert_eq!(parse("policies/password/p/x"), None);
        assert_eq!(parse("policies/passwordx"), None);
        assert_eq!(parse("policies/acl/p"), None);
        assert!(PasswordPolicyStore::handles_sys_path(
            "policies/password/a.b"
        ));
        assert!(!PasswordPolicyStore::handles_sys_path(
            "policies/password/../a"
        ));
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
}
