//! `sys/internal/*`, as a `sys/` piece: `internal/ui/mounts` (what the CLI
//! asks to learn a mount's type and KV version), `internal/ui/resultant-acl`
//! (the caller's own ACL, for UIs) and `internal/specs/openapi` (see
//! [`super::openapi`]).
//!
//! [`InternalPiece`] is a [`Backend`] over a path table declared relative
//! to `sys/`. As in Vault's system backend, `internal/ui/mounts`,
//! `internal/ui/mounts/*` and `internal/specs/openapi` are declared
//! unauthenticated, so the core checks no token and no ACL for them, and
//! their handlers authenticate the client token themselves: the mounts need
//! a valid token (403 without) and show only what its policies reach; the
//! OpenAPI document is the token's, or without a token the `unauth`-visible
//! mounts'. `internal/ui/resultant-acl` is an ordinary authenticated path,
//! ACL-checked as in Vault (the `default` policy grants `read` on it). The
//! piece holds the unsealed state weakly because it is part of it.

use crate::error::CoreError;
use std::sync::{Arc, LazyLock, Weak};

use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value};

use crate::unsealed::Unsealed;

/// The `sys/internal/*` endpoints over the unsealed state.
pub(crate) struct InternalPiece {
    unsealed: Weak<Unsealed>,
}

impl InternalPiece {
    /// The piece answering from `unsealed` (held weakly: the piece is part
    /// of it).
    pub(crate) fn new(unsealed: Weak<Unsealed>) -> Self {
        Self { unsealed }
    }

    fn unsealed(&self) -> Result<Arc<Unsealed>> {
        self.unsealed.upgrade().ok_or_else(Error::sealed)
    }
}

const READ: &[Operation] = &[Operation::Read];

const MOUNT_FIELDS: &[FieldDef] = &[FieldDef::new(
    "path",
    FieldType::String,
    "The path of the mount.",
)];

const MOUNTS_SYNOPSIS: &str = "Information about the mounts the client token can use.";
const MOUNTS_DESCRIPTION: &str = "Lists the secrets engines and auth methods the client \
     token's policies reach, or describes the one serving a path. Meant for UIs and the CLI; \
     Vault guarantees no backwards compatibility for it.";

/// The piece's paths, relative to `sys/`. `internal/ui/mounts` comes before
/// `internal/ui/mounts/*path`, which would also match it (empty path).
static TABLE: LazyLock<PathTable<InternalPiece>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(PathDef {
            pattern: "internal/ui/mounts",
            fields: &[],
            operations: READ,
            existence_check: false,
            synopsis: MOUNTS_SYNOPSIS,
            description: MOUNTS_DESCRIPTION,
        })
        .read(handler!(ui_mounts))
        .unauthenticated(),
        Path::new(PathDef {
            pattern: "internal/ui/mounts/*path",
            fields: MOUNT_FIELDS,
            operations: READ,
            existence_check: false,
            synopsis: MOUNTS_SYNOPSIS,
            description: MOUNTS_DESCRIPTION,
        })
        .read(handler!(ui_mount))
        .unauthenticated(),
        Path::new(PathDef {
            pattern: "internal/ui/resultant-acl",
            fields: &[],
            operations: READ,
            existence_check: false,
            synopsis: "The client token's resultant ACL.",
            description: "Returns the paths the client token's policies (its entity's \
                 included) grant, exact and glob, with their merged capabilities, or \
                 {\"root\": true} for a root token. Meant for UIs.",
        })
        .read(handler!(resultant_acl)),
        Path::new(PathDef {
            pattern: "internal/specs/openapi",
            fields: &[],
            operations: READ,
            existence_check: false,
            synopsis: "The OpenAPI document of the mounted backends.",
            description: "Generates an OpenAPI 3 document of the paths of every mount the \
                 client token's policies reach; without a token, of the mounts whose \
                 listing visibility is \"unauth\".",
        })
        .read(handler!(openapi))
        .unauthenticated(),
    ])
});

impl Backend for InternalPiece {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

/// The client token's own policies, authenticated here as Vault's handlers
/// do on these unauthenticated paths: 403 without a valid token.
async fn token_policies(unsealed: &Unsealed, call: &Call<'_>) -> Result<Vec<String>> {
    let caller = unsealed.authenticate(call.req).await?;
    Ok(caller.entry.map(|e| e.policies.clone()).unwrap_or_default())
}

/// `internal/ui/mounts` (read): `{secret: {...}, auth: {...}}`, the mounts
/// the token's policies reach.
async fn ui_mounts(piece: &InternalPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let policies = token_policies(&unsealed, call).await?;
    list_mounts(&unsealed, &policies)
}

fn list_mounts(unsealed: &Unsealed, policies: &[String]) -> Result<Option<Response>> {
    let mut secret = Map::new();
    let mut auth = Map::new();
    for route in unsealed.router().routes() {
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
    Ok(Some(Response::with_data(data)))
}

/// `internal/ui/mounts/*path` (read): the mount serving `path`, with its
/// `path`, when the token's policies reach it (403 otherwise; 400 when no
/// mount serves it). An empty path lists them all, as `internal/ui/mounts`.
async fn ui_mount(piece: &InternalPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let policies = token_policies(&unsealed, call).await?;
    let path = call.capture("path").trim_start_matches('/');
    if path.is_empty() {
        return list_mounts(&unsealed, &policies);
    }
    let route = unsealed
        .router()
        .lookup(path)
        .ok_or_else(|| CoreError::PreflightDenied(path.to_owned()))?;
    if !unsealed.policies.has_access_under(&policies, &route.prefix) {
        return Err(Error::permission_denied());
    }
    let mut data = match route.entry.to_api() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    data.insert("path".into(), Value::String(route.prefix.clone()));
    Ok(Some(Response::with_data(data)))
}

/// `internal/specs/openapi` (read): with a client token, the document of
/// what its policies reach (403 for an invalid token); without one, the
/// document of the `unauth`-visible mounts.
async fn openapi(piece: &InternalPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    if call.req.client_token.as_ref().is_none_or(|t| t.is_empty()) {
        return Ok(Some(super::openapi::unauthenticated_document(&unsealed)));
    }
    let policies = token_policies(&unsealed, call).await?;
    Ok(Some(super::openapi::document(&unsealed, &policies)))
}

/// Vault's `pathInternalUIResultantACL`: `{"root": true}` for a root
/// token, else the exact and glob (prefix) patterns of the caller's ACL
/// (its entity's policies included) with their merged permissions. The core
/// refuses a tokenless request before it gets here (403, as Vault's); a
/// request without a caller would get Vault's 204.
async fn resultant_acl(piece: &InternalPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let Some(entry) = super::capabilities::own_token(&unsealed, call.req).await? else {
        return Ok(None);
    };
    let (acl, _) = unsealed.resolve_policies(&entry)?;
    let acl = acl.resultant();
    let mut data = Map::new();
    data.insert("root".into(), Value::Bool(acl.root));
    if acl.root {
        return Ok(Some(Response::with_data(data)));
    }
    let paths = |map: &std::collections::BTreeMap<String, coffer_policy::PatternPermissions>| {
        map.iter()
            .map(|(path, perms)| (path.clone(), pattern_json(perms)))
            .collect::<Map<String, Value>>()
    };
    data.insert("exact_paths".into(), Value::Object(paths(&acl.exact)));
    data.insert("glob_paths".into(), Value::Object(paths(&acl.glob)));
    Ok(Some(Response::with_data(data)))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sys::capabilities::tests::{Dev, status};

    #[test]
    fn unauthenticated_paths_are_vaults() {
        let piece = InternalPiece::new(Weak::new());
        let special = piece.special_paths();
        assert_eq!(
            special.unauthenticated,
            [
                "internal/ui/mounts",
                "internal/ui/mounts/*",
                "internal/specs/openapi"
            ]
        );
        assert!(special.root.is_empty());
        let first = |p: &str| {
            piece
                .paths()
                .into_iter()
                .find(|d| d.matches(p))
                .map(|d| d.pattern)
        };
        assert_eq!(first("internal/ui/mounts"), Some("internal/ui/mounts"));
        assert_eq!(
            first("internal/ui/mounts/secret/data/x"),
            Some("internal/ui/mounts/*path")
        );
        assert_eq!(
            first("internal/ui/resultant-acl"),
            Some("internal/ui/resultant-acl")
        );
        assert_eq!(first("internal/ui/other"), None);
    }

    /// The mounts need a valid token even though the path is
    /// unauthenticated: the handler checks it (403), and shows only what its
    /// policies reach.
    #[tokio::test]
    async fn ui_mounts_authenticate_in_the_handler() {
        let dev = Dev::new().await;
        for token in [None, Some("hvs.not-a-token")] {
            for path in ["sys/internal/ui/mounts", "sys/internal/ui/mounts/secret/x"] {
                let r = dev.call(token, Operation::Read, path, json!({})).await;
                assert_eq!(status(&r), 403, "{path} {token:?}");
            }
        }
        dev.call(
            Some(&dev.root),
            Operation::Update,
            "sys/mounts/private",
            json!({"type": "kv"}),
        )
        .await
        .unwrap();
        dev.policy(
            "team",
            r#"path "secret/data/team/*" { capabilities = ["read"] }"#,
        )
        .await;
        let t = dev.token(json!({"policies": ["team"]})).await;
        let all = dev
            .data(&t, Operation::Read, "sys/internal/ui/mounts", json!({}))
            .await;
        let secret: Vec<_> = all["secret"].as_object().unwrap().keys().cloned().collect();
        assert!(secret.contains(&"secret/".to_owned()), "{all}");
        assert!(!secret.contains(&"private/".to_owned()), "{all}");
        let one = dev
            .data(
                &t,
                Operation::Read,
                "sys/internal/ui/mounts/secret/team/x",
                json!({}),
            )
            .await;
        assert_eq!(one["path"], "secret/");
        assert_eq!(one["type"], "kv");
        // No ACL check on the path itself: the default policy does not grant
        // it, and a token without `default` is answered all the same.
        let bare = dev
            .token(json!({"policies": ["team"], "no_default_policy": true}))
            .await;
        let r = dev
            .call(
                Some(&bare),
                Operation::Read,
                "sys/internal/ui/mounts",
                json!({}),
            )
            .await;
        assert_eq!(status(&r), 200);
        let r = dev
            .call(
                Some(&t),
                Operation::Read,
                "sys/internal/ui/mounts/private/x",
                json!({}),
            )
            .await;
        assert_eq!(status(&r), 403);
    }

    /// Unlike the mounts, the resultant ACL is an authenticated,
    /// ACL-checked path: no token is refused by the core.
    #[tokio::test]
    async fn resultant_acl_needs_a_token() {
        let dev = Dev::new().await;
        let r = dev
            .call(
                None,
                Operation::Read,
                "sys/internal/ui/resultant-acl",
                json!({}),
            )
            .await;
        assert_eq!(status(&r), 403);
        let t = dev.token(json!({"policies": ["default"]})).await;
        let acl = dev
            .data(
                &t,
                Operation::Read,
                "sys/internal/ui/resultant-acl",
                json!({}),
            )
            .await;
        assert_eq!(acl["root"], json!(false));
        assert_eq!(
            acl["exact_paths"]["sys/internal/ui/resultant-acl"],
            json!({"capabilities": ["read"]})
        );
        let root = dev
            .data(
                &dev.root,
                Operation::Read,
                "sys/internal/ui/resultant-acl",
                json!({}),
            )
            .await;
        assert_eq!(root, json!({"root": true}));
    }

    /// The OpenAPI document: without a token only `unauth`-visible mounts
    /// (none by default), with one what its policies reach, with a bad one
    /// 403.
    #[tokio::test]
    async fn openapi_with_and_without_a_token() {
        let dev = Dev::new().await;
        let doc = |r: Result<Response>| {
            let raw = r.unwrap().raw.unwrap();
            raw["paths"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        let path = "sys/internal/specs/openapi";
        let anonymous = doc(dev.call(None, Operation::Read, path, json!({})).await);
        assert!(anonymous.is_empty(), "{anonymous:?}");
        let root = doc(dev
            .call(Some(&dev.root), Operation::Read, path, json!({}))
            .await);
        for p in [
            "/sys/capabilities-self",
            "/sys/wrapping/unwrap",
            "/sys/internal/ui/mounts/{path}",
        ] {
            assert!(root.iter().any(|k| k == p), "{p} missing");
        }
        let bad = dev
            .call(Some("hvs.not-a-token"), Operation::Read, path, json!({}))
            .await;
        assert_eq!(status(&bad), 403);
    }
}
