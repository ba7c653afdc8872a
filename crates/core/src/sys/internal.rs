//! `sys/internal/ui/mounts`: what the CLI asks to learn a mount's type and
//! KV version, and `sys/internal/specs/openapi` (see [`super::openapi`]).
//! Both need a valid token and show only mounts the token can use.

use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Map, Value};

use crate::pipeline::Caller;
use crate::sys::allow;
use crate::unsealed::Unsealed;

/// Whether this `sys/` path skips the ACL check (it does its own filtering).
pub(crate) fn acl_exempt(relative: &str) -> bool {
    relative == "internal/ui/mounts"
        || relative.starts_with("internal/ui/mounts/")
        || relative == "internal/specs/openapi"
}

/// Dispatches `sys/internal/*`.
pub(super) async fn handle(
    unsealed: &Unsealed,
    caller: &Caller,
    relative: &str,
    req: &Request,
) -> Result<Option<Response>> {
    allow(req.op(), &[Operation::Read])?;
    if relative == "internal/specs/openapi" {
        return Ok(Some(super::openapi::document(unsealed, caller)));
    }
    let rest = match relative.strip_prefix("internal/ui/mounts") {
        Some(rest) => rest.trim_start_matches('/'),
        None => return Err(Error::not_found()),
    };
    let policies = caller
        .entry
        .as_ref()
        .map(|e| e.policies.as_slice())
        .unwrap_or_default();
    let router = unsealed.router();
    if rest.is_empty() {
        let mut secret = Map::new();
        let mut auth = Map::new();
        for route in router.routes() {
            if !unsealed.policies.has_access_under(policies, &route.prefix) {
                continue;
            }
            match route.table {
                crate::mounts::Table::Secrets => {
                    secret.insert(route.entry.path.clone(), route.entry.to_api())
                }
                crate::mounts::Table::Auth => {
                    auth.insert(route.entry.path.clone(), route.entry.to_api())
                }
            };
        }
        let mut data = Map::new();
        data.insert("secret".into(), Value::Object(secret));
        data.insert("auth".into(), Value::Object(auth));
        return Ok(Some(Response::with_data(data)));
    }
    let route = router.lookup(rest).ok_or_else(|| {
        Error::invalid(format!("Preflight capability check returned 403, please ensure client's policies grant access to path \"{rest}\""))
    })?;
    if !unsealed.policies.has_access_under(policies, &route.prefix) {
        return Err(Error::permission_denied());
    }
    let mut data = match route.entry.to_api() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    data.insert("path".into(), Value::String(route.prefix.clone()));
    Ok(Some(Response::with_data(data)))
}
