//! `sys/policy/*` (legacy) and `sys/policies/acl/*`.

use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Map, Value, json};

use crate::policy_store::ROOT_POLICY;
use crate::sys::allow;
use crate::unsealed::Unsealed;

fn data(value: Value) -> Result<Option<Response>> {
    Response::from_serialize(&value).map(Some)
}

/// The policy text from a write: `policy` (or legacy `rules`), plain or base64.
fn policy_text(req: &Request) -> Result<String> {
    let raw = match req.data.get("policy").or_else(|| req.data.get("rules")) {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(Error::invalid("'policy' must be a string")),
        None => return Err(Error::invalid("'policy' parameter not supplied or empty")),
    };
    if raw.trim().is_empty() {
        return Err(Error::invalid("'policy' parameter not supplied or empty"));
    }
    use base64::Engine as _;
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(raw.trim())
        && let Ok(text) = String::from_utf8(decoded)
    {
        return Ok(text);
    }
    Ok(raw)
}

fn read(unsealed: &Unsealed, name: &str, text_field: &str) -> Result<Option<Response>> {
    let name = name.to_ascii_lowercase();
    if name == ROOT_POLICY {
        let mut map = Map::new();
        map.insert("name".into(), json!(ROOT_POLICY));
        map.insert(text_field.into(), json!(""));
        return Ok(Some(Response::with_data(map)));
    }
    let policy = unsealed.policies.get(&name).ok_or_else(Error::not_found)?;
    let mut map = Map::new();
    map.insert("name".into(), json!(name));
    map.insert(text_field.into(), json!(policy.raw()));
    Ok(Some(Response::with_data(map)))
}

/// Dispatches the policy endpoints.
pub(super) async fn handle(
    unsealed: &Unsealed,
    relative: &str,
    req: &Request,
) -> Result<Option<Response>> {
    let op = req.op();
    let (legacy, name) = if relative == "policy" {
        (true, "")
    } else if let Some(n) = relative.strip_prefix("policy/") {
        (true, n)
    } else if relative == "policies/acl" || relative == "policies/acl/" {
        (false, "")
    } else if let Some(n) = relative.strip_prefix("policies/acl/") {
        (false, n)
    } else {
        return Err(Error::not_found());
    };
    let text_field = if legacy { "rules" } else { "policy" };
    if name.is_empty() {
        allow(op, &[Operation::Read, Operation::List])?;
        let names = unsealed.policies.names();
        return if legacy {
            data(json!({ "policies": names, "keys": names }))
        } else {
            if op != Operation::List {
                return Err(Error::unsupported("unsupported operation"));
            }
            data(json!({ "keys": names }))
        };
    }
    allow(op, &[Operation::Read, Operation::Update, Operation::Delete])?;
    match op {
        Operation::Read => read(unsealed, name, text_field),
        Operation::Delete => {
            unsealed.policies.delete(name).await?;
            Ok(None)
        }
        _ => {
            let text = policy_text(req)?;
            unsealed.policies.set(name, &text).await?;
            Ok(None)
        }
    }
}
