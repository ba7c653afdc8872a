//! `sys/quotas/*`: the quota service's piece of the `sys/` backend. The
//! [`QuotaManager`] is a [`Backend`] whose [`PathTable`] declares its paths
//! relative to `sys/` (`quotas/config`, `quotas/rate-limit`,
//! `quotas/rate-limit/:name`) with Vault's fields, and dispatches each
//! operation to a typed handler in `path_config` or `path_rate_limit`.

use std::sync::LazyLock;

use coffer_sdk::{
    Backend, Call, FieldDef, FieldDefault, FieldType, Path, PathDef, PathTable, Routes, handler,
};
#[cfg(test)]
use coffer_types::Request;
use coffer_types::{Operation, Response, Result};

use crate::QuotaManager;
use crate::error::QuotaError;
use crate::quota::valid_name;
use crate::{path_config, path_rate_limit};

/// The fields of `quotas/config`.
const CONFIG_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "rate_limit_exempt_paths",
        FieldType::StringList,
        "Specifies the list of exempt paths from all rate limit quotas. If empty no paths will be exempt.",
    ),
    FieldDef::new(
        "enable_rate_limit_audit_logging",
        FieldType::Bool,
        "If set, starts audit logging of requests that get rejected due to rate limit quota rule violations.",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new(
        "enable_rate_limit_response_headers",
        FieldType::Bool,
        "If set, additional rate limit quota HTTP headers will be added to responses.",
    )
    .default(FieldDefault::Bool(false)),
];

/// The fields of `quotas/rate-limit/:name`. `rate` (Vault's float),
/// `interval` and `block_interval` (Vault's duration in seconds) are `Any`:
/// the handler parses them and reports Vault's own messages.
const RATE_LIMIT_FIELDS: &[FieldDef] = &[
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
    )
    .required(),
    FieldDef::new(
        "interval",
        FieldType::Any,
        "The duration to enforce rate limiting for (default '1s').",
    )
    .default(FieldDefault::Int(1)),
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

/// The declared paths, in matching order.
static TABLE: LazyLock<PathTable<QuotaManager>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(PathDef {
            pattern: "quotas/config",
            fields: CONFIG_FIELDS,
            operations: &[Operation::Read, Operation::Update],
            existence_check: false,
            synopsis: "Create, update and read the quota configuration.",
            description: "Operator preferences for rate limit quotas: audit logging of refused requests, rate limit response headers, and the paths no quota applies to.",
        })
        .read(handler!(path_config::read))
        .update(handler!(path_config::write)),
        Path::new(PathDef {
            pattern: "quotas/rate-limit",
            fields: &[],
            operations: &[Operation::List],
            existence_check: false,
            synopsis: "Lists the names of all the rate limit quotas.",
            description: "This list contains quota definitions from all the namespaces.",
        })
        .list(handler!(list)),
        Path::new(PathDef {
            pattern: "quotas/rate-limit/:name",
            fields: RATE_LIMIT_FIELDS,
            operations: &[Operation::Read, Operation::Update, Operation::Delete],
            existence_check: false,
            synopsis: "Get, create or update rate limit resource quota for an optional namespace or mount.",
            description: "A rate limit quota will enforce API rate limiting in a specified interval. A rate limit quota can be created at the root level or defined on a mount or a path below it by specifying a 'path'. The rate limiter is applied to each unique client IP address. The built-in 'default-login' quota limits login requests that no other quota covers.",
        })
        .read(handler!(path_rate_limit::read))
        .update(handler!(path_rate_limit::write))
        .delete(handler!(path_rate_limit::delete)),
    ])
});

/// `quotas/rate-limit` (list): the quota names, 404 when there are none.
async fn list(mgr: &QuotaManager, _call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(mgr.quota_names())
}

/// The quota named by the path; a name Vault's pattern would not match is
/// its 404 `unsupported path`.
pub(crate) fn quota_name<'a>(call: &'a Call<'_>) -> Result<&'a str> {
    let name = call.capture("name");
    if valid_name(name) {
        Ok(name)
    } else {
        Err(QuotaError::UnsupportedPath.into())
    }
}

/// The quota service answers its `sys/` paths (relative to `sys/`) as a
/// backend over its path table.
impl Backend for QuotaManager {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

/// What the crate's tests call (through `test_support.rs`): `req` sent to
/// the piece as the core sends it, with its path relative to `sys/`, in the
/// sdk's test harness.
#[cfg(test)]
impl QuotaManager {
    pub(crate) async fn handle_sys(
        &self,
        relative: &str,
        req: &Request,
    ) -> Result<Option<Response>> {
        let mut req = req.clone();
        req.relative_path = relative.to_owned();
        coffer_sdk::testing::Harness::new().send(self, req).await
    }
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

    /// The piece declares Vault's quota paths, none of them sudo or
    /// unauthenticated (the core's old `SUDO_PATHS` listed none of them).
    #[tokio::test]
    async fn declarations_and_special_paths() {
        let h = Harness::new().await;
        let declared: Vec<(&str, &[Operation])> = h
            .mgr
            .paths()
            .iter()
            .map(|d| (d.pattern, d.operations))
            .collect();
        assert_eq!(
            declared,
            [
                ("quotas/config", &[Operation::Read, Operation::Update][..]),
                ("quotas/rate-limit", &[Operation::List][..]),
                (
                    "quotas/rate-limit/:name",
                    &[Operation::Read, Operation::Update, Operation::Delete][..]
                ),
            ]
        );
        let special = h.mgr.special_paths();
        assert!(special.root.is_empty() && special.unauthenticated.is_empty());
        let rate = RATE_LIMIT_FIELDS.iter().find(|f| f.name == "rate").unwrap();
        assert!(rate.required);
    }

    /// Every handler reads only the fields its path declares.
    #[tokio::test]
    async fn handlers_read_only_declared_fields() {
        let h = Harness::new().await;
        let sdk = coffer_sdk::testing::Harness::new();
        let problems = coffer_sdk::field_walk::undeclared_reads(&h.mgr, &sdk.ctx, |_| {}).await;
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The dispatch warns about fields no declaration knows, on every path.
    #[tokio::test]
    async fn unknown_fields_are_a_warning() {
        let h = Harness::new().await;
        let resp = h
            .write("quotas/rate-limit/x", json!({"rate": 1, "zz": 1, "aa": 2}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [aa zz]"]
        );
    }
}
