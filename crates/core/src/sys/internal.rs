//! `sys/internal/ui/mounts`: what the CLI asks to learn a mount's type and
//! KV version, and `sys/internal/specs/openapi` (see [`super::openapi`]).
//! `sys/internal/ui/mounts` needs a valid token and shows only mounts the
//! token can use; the OpenAPI document is also answered without a token
//! (only the `unauth`-visible mounts), by `super::unauthenticated`.
//! `sys/internal/ui/resultant-acl`: the caller's own ACL, for UIs. Unlike
//! the other two it is ACL-checked, as in Vault: the `default` policy
//! grants `read` on it.

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
    if relative == "internal/ui/resultant-acl" {
        return Ok(Some(resultant_acl(caller)));
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

/// Vault's `pathInternalUIResultantACL`: `{"root": true}` for a root
/// token, else the exact and glob (prefix) patterns with their merged
/// permissions. Without a token Vault answers 204; the pipeline already
/// refuses a tokenless request to this path with 403, as Vault's does.
fn resultant_acl(caller: &Caller) -> Response {
    if caller.entry.is_none() {
        return Response::default();
    }
    let acl = caller.acl.resultant();
    let mut data = Map::new();
    data.insert("root".into(), Value::Bool(acl.root));
    if acl.root {
        return Response::with_data(data);
    }
    let paths = |map: &std::collections::BTreeMap<String, coffer_policy::PatternPermissions>| {
        map.iter()
            .map(|(path, perms)| (path.clone(), pattern_json(perms)))
            .collect::<Map<String, Value>>()
    };
    data.insert("exact_paths".into(), Value::Object(paths(&acl.exact)));
    data.insert("glob_paths".into(), Value::Object(paths(&acl.glob)));
    Response::with_data(data)
}

/// One pattern as Vault writes it: `capabilities`, then the wrapping TTLs
/// (whole seconds) and parameter constraints only when the policy set them.
fn pattern_json(perms: &coffer_policy::PatternPermissions) -> Value {
    let mut out = Map::new();
    out.insert("capabilities".into(), serde_json::json!(perms.capabilities));
    for (name, ttl) in [
        ("min_wrapping_ttl", perms.min_wrapping_ttl),
        ("max_wrapping_ttl", perms.max_wrapping_ttl),
    ] {
        if let Some(ttl) = ttl {
            out.insert(name.into(), Value::from(ttl.as_secs()));
        }
    }
    for (name, map) in [
        ("allowed_parameters", &perms.allowed_parameters),
        ("denied_parameters", &perms.denied_parameters),
    ] {
        if !map.is_empty() {
            out.insert(name.into(), serde_json::json!(map));
        }
    }
    if !perms.required_parameters.is_empty() {
        out.insert(
            "required_parameters".into(),
            serde_json::json!(perms.required_parameters),
        );
    }
    Value::Object(out)
}
