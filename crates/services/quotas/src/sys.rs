//! `sys/quotas/*`: the declared paths and the dispatch to their handlers.

use std::sync::LazyLock;

use coffer_sdk::{FieldDef, FieldType, PathDef, RouteTable};
use coffer_types::{Operation, Request, Response, Result};
use serde_json::{Map, Value};

use crate::QuotaManager;
use crate::error::QuotaError;
use crate::quota::valid_name;
use crate::{path_config, path_rate_limit};

#[derive(Clone, Copy, Debug)]
enum Route {
    Config,
    List,
    RateLimit,
}

pub(crate) const CONFIG_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "rate_limit_exempt_paths",
        FieldType::StringList,
        "Specifies the list of exempt paths from all rate limit quotas. If empty no paths will be exempt.",
    ),
    FieldDef::new(
        "enable_rate_limit_audit_logging",
        FieldType::Bool,
        "If set, starts audit logging of requests that get rejected due to rate limit quota rule violations.",
    ),
    FieldDef::new(
        "enable_rate_limit_response_headers",
        FieldType::Bool,
        "If set, additional rate limit quota HTTP headers will be added to responses.",
    ),
];

/// The fields of `quotas/rate-limit/:name`. `rate`, `interval` and
/// `block_interval` are parsed by the handler, which reports Vault's messages.
pub(crate) const RATE_LIMIT_FIELDS: &[FieldDef] = &[
    FieldDef::new("type", FieldType::String, "Type of the quota rule."),
    FieldDef::new("name", FieldType::String, "Name of the quota rule."),
    FieldDef::new(
        "path",
        FieldType::String,
        "Path of the mount to apply the quota, optionally with a path below it (a trailing '*' covers every path starting with it). A blank path configures a global quota.",
    ),
    FieldDef::new(
        "role",
        FieldType::String,
        "Login role to apply this quota to (not supported yet).",
    ),
    FieldDef::new(
        "rate",
        FieldType::Any,
        "The maximum number of requests in a given interval to be allowed by the quota rule. The 'rate' must be positive.",
    ),
    FieldDef::new(
        "interval",
        FieldType::Any,
        "The duration to enforce rate limiting for (default '1s').",
    ),
    FieldDef::new(
        "block_interval",
        FieldType::Any,
        "If set, when a client reaches a rate limit threshold, the client will be prohibited from any further requests until after the 'block_interval' has elapsed.",
    ),
    FieldDef::new(
        "inheritable",
        FieldType::Bool,
        "Whether child namespaces use this quota; only global quotas are, and always.",
    ),
];

static TABLE: LazyLock<RouteTable<Route>> = LazyLock::new(|| {
    RouteTable::new(vec![
        (
            PathDef {
                pattern: "quotas/config",
                fields: CONFIG_FIELDS,
                operations: &[Operation::Read, Operation::Update],
                existence_check: false,
                synopsis: "Create, update and read the quota configuration.",
                description: "Operator preferences for rate limit quotas: audit logging of refused requests, rate limit response headers, and the paths no quota applies to.",
            },
            Route::Config,
        ),
        (
            PathDef {
                pattern: "quotas/rate-limit",
                fields: &[],
                operations: &[Operation::List],
                existence_check: false,
                synopsis: "Lists the names of all the rate limit quotas.",
                description: "This list contains quota definitions from all the namespaces.",
            },
            Route::List,
        ),
        (
            PathDef {
                pattern: "quotas/rate-limit/:name",
                fields: RATE_LIMIT_FIELDS,
                operations: &[Operation::Read, Operation::Update, Operation::Delete],
                existence_check: false,
                synopsis: "Get, create or update rate limit resource quota for an optional namespace or mount.",
                description: "A rate limit quota will enforce API rate limiting in a specified interval. A rate limit quota can be created at the root level or defined on a mount or a path below it by specifying a 'path'. The rate limiter is applied to each unique client IP address. The built-in 'default-login' quota limits login requests that no other quota covers.",
            },
            Route::RateLimit,
        ),
    ])
});

impl QuotaManager {
    /// Answers `quotas/rate-limit/:name` (create/update, read, delete),
    /// `quotas/rate-limit` (list) and `quotas/config` (read, update);
    /// `relative` is the path under `sys/`. `Ok(None)` is a success with
    /// nothing to say (204); a path that is not a quota endpoint is Vault's
    /// 404 `unsupported path`.
    pub async fn handle_sys(&self, relative: &str, req: &Request) -> Result<Option<Response>> {
        let op = req.op();
        if op == Operation::Help {
            return TABLE.help(relative).map(Some);
        }
        let matched = TABLE.route(relative)?;
        matched.require_operation(op)?;
        match matched.route {
            Route::Config => match op {
                Operation::Read => Ok(Some(path_config::read(self))),
                _ => path_config::write(self, req).await,
            },
            Route::List => list_response(self.quota_names()),
            Route::RateLimit => {
                let name = matched.captures.get("name");
                if !valid_name(name) {
                    return Err(QuotaError::UnsupportedPath.into());
                }
                match op {
                    Operation::Read => path_rate_limit::read(self, name),
                    Operation::Delete => path_rate_limit::delete(self, name).await,
                    _ => path_rate_limit::write(self, name, req).await,
                }
            }
        }
    }
}

/// Vault's list response: `{"keys": [...]}`, or 404 when there is nothing.
fn list_response(keys: Vec<String>) -> Result<Option<Response>> {
    if keys.is_empty() {
        return Err(coffer_types::Error::not_found());
    }
    let mut data = Map::new();
    data.insert(
        "keys".into(),
        Value::Array(keys.into_iter().map(Value::String).collect()),
    );
    Ok(Some(Response::with_data(data)))
}

/// Vault's warning for body fields a path does not declare (`None` when
/// there are none).
pub(crate) fn ignored_fields_response(unknown: Vec<String>) -> Option<Response> {
    if unknown.is_empty() {
        return None;
    }
    let mut sorted = unknown;
    sorted.sort();
    Some(Response::default().warn(format!(
        "Endpoint ignored these unrecognized parameters: [{}]",
        sorted.join(" ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, body};
    use serde_json::json;

    #[tokio::test]
    async fn list_and_unknown_paths() {
        let h = Harness::new().await;
        let resp = h.list("quotas/rate-limit").await.unwrap();
        assert_eq!(body(&resp), json!({"keys": ["default-login"]}));
        let resp = h.list("quotas/rate-limit/").await.unwrap();
        assert_eq!(body(&resp), json!({"keys": ["default-login"]}));
        h.delete("quotas/rate-limit/default-login").await.unwrap();
        assert_eq!(h.list("quotas/rate-limit").await.unwrap_err().status(), 404);

        let err = h.read("quotas/nope").await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (404, &["unsupported path".to_owned()][..])
        );
        assert_eq!(
            h.read("quotas/rate-limit/-bad").await.unwrap_err().status(),
            404
        );
        assert_eq!(
            h.read("quotas/rate-limit/a/b").await.unwrap_err().status(),
            404
        );
    }

    #[tokio::test]
    async fn unsupported_operations_are_405() {
        let h = Harness::new().await;
        assert_eq!(h.read("quotas/rate-limit").await.unwrap_err().status(), 405);
        assert_eq!(h.delete("quotas/config").await.unwrap_err().status(), 405);
        assert_eq!(
            h.list("quotas/rate-limit/x").await.unwrap_err().status(),
            405
        );
        let err = h
            .call(Operation::Patch, "quotas/rate-limit/x", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        // Create is Update here.
        h.call(Operation::Create, "quotas/rate-limit/x", json!({"rate": 1}))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn help_is_generated() {
        let h = Harness::new().await;
        let resp = h
            .call(Operation::Help, "quotas/rate-limit/x", json!({}))
            .await
            .unwrap();
        let text = body(&resp)["help"].as_str().unwrap().to_owned();
        assert!(text.contains("block_interval"));
    }
}
