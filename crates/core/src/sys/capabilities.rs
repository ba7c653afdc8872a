//! `sys/capabilities`, `sys/capabilities-self`, `sys/capabilities-accessor`.

use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Map, Value};

use crate::pipeline::Caller;
use crate::sys::allow;
use crate::unsealed::Unsealed;

fn paths(req: &Request) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for field in ["path", "paths"] {
        match req.data.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => out.extend(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            Some(Value::Array(items)) => {
                for item in items {
                    let s = item.as_str().ok_or_else(|| {
                        Error::invalid(format!("'{field}' must be a list of strings"))
                    })?;
                    out.push(s.to_owned());
                }
            }
            Some(_) => {
                return Err(Error::invalid(format!(
                    "'{field}' must be a string or a list of strings"
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(Error::invalid("missing path"));
    }
    Ok(out
        .into_iter()
        .map(|p| p.trim_start_matches('/').to_owned())
        .collect())
}

/// Answers the capability queries.
pub(super) async fn handle(
    unsealed: &Unsealed,
    caller: &Caller,
    relative: &str,
    req: &Request,
) -> Result<Option<Response>> {
    allow(req.op(), &[Operation::Update])?;
    let paths = paths(req)?;
    let entry = match relative {
        "capabilities-self" => caller.entry.clone().ok_or_else(Error::permission_denied)?,
        "capabilities" => {
            let token = req
                .get_str("token")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Error::invalid("missing token"))?;
            unsealed
                .tokens
                .lookup_shared(token)
                .await?
                .ok_or_else(|| Error::invalid("invalid token"))?
        }
        "capabilities-accessor" => {
            let accessor = req
                .get_str("accessor")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Error::invalid("missing accessor"))?;
            unsealed
                .tokens
                .lookup_accessor(accessor)
                .await?
                .map(std::sync::Arc::new)
                .ok_or_else(|| Error::invalid("invalid accessor"))?
        }
        _ => return Err(Error::not_found()),
    };
    let acl = unsealed.effective_acl(&entry)?;
    let mut data = Map::new();
    let mut first = None;
    for path in &paths {
        let caps = acl.capabilities(path);
        if first.is_none() {
            first = Some(caps.clone());
        }
        data.insert(path.clone(), Value::from(caps));
    }
    data.insert(
        "capabilities".into(),
        Value::from(first.unwrap_or_default()),
    );
    Ok(Some(Response::with_data(data)))
}
