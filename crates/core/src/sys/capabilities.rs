//! `sys/capabilities`, `sys/capabilities-self` and `sys/capabilities-accessor`:
//! what a token may do on given paths, as a `sys/` piece.
//!
//! [`CapabilitiesPiece`] is a [`Backend`] over a path table declared relative
//! to `sys/` with Vault's fields. The token is named in the body (`token`),
//! found by its accessor, or is the caller's own (`-self`): that one is found
//! from the request (its client token, or the caller the core authenticated),
//! never handed over by the pipeline. The piece holds the unsealed state
//! weakly because it is part of it. [`own_token`] is shared with the other
//! pieces that act on the caller's token (resultant ACL, wrapping).

use crate::error::CoreError;
use std::sync::{Arc, LazyLock, Weak};

use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_tokens::TokenEntry;
use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Map, Value};

use crate::unsealed::Unsealed;

/// The capability queries over the unsealed state's token store and ACLs.
pub(crate) struct CapabilitiesPiece {
    unsealed: Weak<Unsealed>,
}

impl CapabilitiesPiece {
    /// The piece answering from `unsealed` (held weakly: the piece is part
    /// of it).
    pub(crate) fn new(unsealed: Weak<Unsealed>) -> Self {
        Self { unsealed }
    }

    fn unsealed(&self) -> Result<Arc<Unsealed>> {
        self.unsealed.upgrade().ok_or_else(Error::sealed)
    }
}

const PATH: FieldDef = FieldDef::new(
    "path",
    FieldType::StringList,
    "Paths to check (deprecated; use \"paths\").",
);
const PATHS: FieldDef = FieldDef::new("paths", FieldType::StringList, "Paths to check.");
const TOKEN: FieldDef = FieldDef::new("token", FieldType::String, "The token to check.");
const ACCESSOR: FieldDef = FieldDef::new(
    "accessor",
    FieldType::String,
    "The accessor of the token to check.",
);

const UPDATE: &[Operation] = &[Operation::Update];

/// The piece's paths, relative to `sys/`.
static TABLE: LazyLock<PathTable<CapabilitiesPiece>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(PathDef {
            pattern: "capabilities",
            fields: &[PATH, PATHS, TOKEN],
            operations: UPDATE,
            existence_check: false,
            synopsis: "A token's capabilities on paths.",
            description: "Returns the capabilities the given token's policies grant on each \
                 path, and under \"capabilities\" those on the first.",
        })
        .update(handler!(by_token)),
        Path::new(PathDef {
            pattern: "capabilities-self",
            fields: &[PATH, PATHS],
            operations: UPDATE,
            existence_check: false,
            synopsis: "The caller's capabilities on paths.",
            description: "Returns the capabilities the client token's policies grant on each \
                 path, and under \"capabilities\" those on the first.",
        })
        .update(handler!(by_self)),
        Path::new(PathDef {
            pattern: "capabilities-accessor",
            fields: &[PATH, PATHS, ACCESSOR],
            operations: UPDATE,
            existence_check: false,
            synopsis: "The capabilities on paths of the token with an accessor.",
            description: "Returns the capabilities the policies of the token with the given \
                 accessor grant on each path, and under \"capabilities\" those on the first.",
        })
        .update(handler!(by_accessor)),
    ])
});

impl Backend for CapabilitiesPiece {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

/// The caller's own token entry: the one the core authenticated for this
/// request, found again by its storage id (a service token) or from the
/// client token (a batch token has no storage id). Looked up *tainted*, so a
/// token whose last use this very request spends (a wrapping token
/// unwrapping itself) is still found; the core revokes it once the request
/// is answered. `None` for a request the core did not authenticate.
pub(super) async fn own_token(
    unsealed: &Unsealed,
    req: &Request,
) -> Result<Option<Arc<TokenEntry>>> {
    let Some(caller) = &req.caller else {
        return Ok(None);
    };
    if let Some(id) = caller.token_id.as_deref() {
        return Ok(unsealed.tokens.lookup_tainted_by_id(id).await?);
    }
    match req.client_token.as_ref().filter(|t| !t.is_empty()) {
        Some(token) => Ok(unsealed
            .tokens
            .lookup_tainted(token.expose())
            .await?
            .map(Arc::new)),
        None => Ok(None),
    }
}

/// The paths asked about: `path` then `paths` (each a list or a
/// comma-separated string), without a leading `/`; 400 `missing path` when
/// neither names one.
fn paths(call: &Call<'_>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for field in ["path", "paths"] {
        out.extend(call.fields.get_string_list(field)?.unwrap_or_default());
    }
    if out.is_empty() {
        return Err(CoreError::Missing("path").into());
    }
    Ok(out
        .into_iter()
        .map(|p| p.trim_start_matches('/').to_owned())
        .collect())
}

/// `{<path>: [caps], ..., capabilities: [caps of the first path]}` for the
/// token `entry` (its ACL includes its entity's policies).
fn answer(unsealed: &Unsealed, entry: &TokenEntry, paths: &[String]) -> Result<Option<Response>> {
    let acl = unsealed.effective_acl(entry)?;
    let mut data = Map::new();
    let mut first = None;
    for path in paths {
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

/// `capabilities`: the token in the body; 400 `missing token` or `invalid
/// token`.
async fn by_token(piece: &CapabilitiesPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let paths = paths(call)?;
    let token = call
        .fields
        .get_string("token")?
        .filter(|t| !t.is_empty())
        .ok_or(CoreError::Missing("token"))?;
    let unsealed = piece.unsealed()?;
    let entry = unsealed
        .tokens
        .lookup_shared(&token)
        .await?
        .ok_or(CoreError::InvalidToken)?;
    answer(&unsealed, &entry, &paths)
}

/// `capabilities-self`: the caller's own token (service or batch).
async fn by_self(piece: &CapabilitiesPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let paths = paths(call)?;
    let unsealed = piece.unsealed()?;
    let entry = own_token(&unsealed, call.req)
        .await?
        .ok_or_else(Error::permission_denied)?;
    answer(&unsealed, &entry, &paths)
}

/// `capabilities-accessor`: the token with the accessor in the body; 400
/// `missing accessor` or `invalid accessor`.
async fn by_accessor(piece: &CapabilitiesPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let paths = paths(call)?;
    let accessor = call
        .fields
        .get_string("accessor")?
        .filter(|a| !a.is_empty())
        .ok_or(CoreError::Missing("accessor"))?;
    let unsealed = piece.unsealed()?;
    let entry = unsealed
        .tokens
        .lookup_accessor(&accessor)
        .await?
        .ok_or(CoreError::InvalidAccessor)?;
    answer(&unsealed, &entry, &paths)
}

#[cfg(test)]
pub(super) mod tests {
    use std::time::Duration;

    use coffer_storage::MemoryStorage;
    use coffer_types::ErrorKind;
    use serde_json::json;

    use super::*;
    use crate::{Core, CoreConfig};

    /// A dev-mode core with the builtin engines, driven through its pipeline.
    pub(in crate::sys) struct Dev {
        pub core: Arc<Core>,
        pub root: String,
    }

    impl Dev {
        pub async fn new() -> Self {
            let config = CoreConfig {
                catalog: coffer_builtins::catalog(),
                ..CoreConfig::default()
            };
            let core = Core::new(Arc::new(MemoryStorage::new()), config);
            let root = core.dev_init(None).await.unwrap().root_token;
            Self {
                core,
                root: root.expose().to_owned(),
            }
        }

        /// `op path` with `body`, the client token `token` (none for
        /// `None`) and, when `wrap` is set, `X-Vault-Wrap-TTL`.
        pub async fn send(
            &self,
            token: Option<&str>,
            op: Operation,
            path: &str,
            body: Value,
            wrap: Option<u64>,
        ) -> Result<Response> {
            let mut req =
                Request::new(op, path).with_data(body.as_object().cloned().unwrap_or_default());
            if let Some(token) = token {
                req = req.with_token(token);
            }
            req.wrap_ttl = wrap.map(Duration::from_secs);
            self.core.handle(req).await
        }

        pub async fn call(
            &self,
            token: Option<&str>,
            op: Operation,
            path: &str,
            body: Value,
        ) -> Result<Response> {
            self.send(token, op, path, body, None).await
        }

        /// The data of a successful call.
        pub async fn data(&self, token: &str, op: Operation, path: &str, body: Value) -> Value {
            let resp = self.call(Some(token), op, path, body).await.unwrap();
            Value::Object(resp.data.unwrap_or_default())
        }

        /// A token created by root with `body` (`auth/token/create`).
        pub async fn token(&self, body: Value) -> String {
            let resp = self
                .call(
                    Some(&self.root),
                    Operation::Update,
                    "auth/token/create",
                    body,
                )
                .await
                .unwrap();
            resp.auth.unwrap().client_token
        }

        /// Writes the ACL policy `name`.
        pub async fn policy(&self, name: &str, text: &str) {
            self.call(
                Some(&self.root),
                Operation::Update,
                &format!("sys/policies/acl/{name}"),
                json!({ "policy": text }),
            )
            .await
            .unwrap();
        }
    }

    /// The status a result would be answered with.
    pub(in crate::sys) fn status(r: &Result<Response>) -> u16 {
        match r {
            Ok(resp) => resp.status.unwrap_or(200),
            Err(e) => e.status(),
        }
    }

    const READER: &str = r#"path "secret/data/app" { capabilities = ["read"] }"#;

    #[test]
    fn declarations() {
        let piece = CapabilitiesPiece::new(Weak::new());
        let decls: Vec<_> = piece
            .paths()
            .iter()
            .map(|d| {
                let fields: Vec<_> = d.fields.iter().map(|f| f.name).collect();
                (d.pattern, d.operations.to_vec(), fields)
            })
            .collect();
        let update = vec![Operation::Update];
        assert_eq!(
            decls,
            vec![
                (
                    "capabilities",
                    update.clone(),
                    vec!["path", "paths", "token"]
                ),
                ("capabilities-self", update.clone(), vec!["path", "paths"]),
                (
                    "capabilities-accessor",
                    update,
                    vec!["path", "paths", "accessor"]
                ),
            ]
        );
        let special = piece.special_paths();
        assert!(special.unauthenticated.is_empty() && special.root.is_empty());
    }

    /// Each form of query answers the same for the same token; the first
    /// path's capabilities are repeated under `capabilities`.
    #[tokio::test]
    async fn by_token_by_accessor_and_self_agree() {
        let dev = Dev::new().await;
        dev.policy("reader", READER).await;
        let resp = dev
            .call(
                Some(&dev.root),
                Operation::Update,
                "auth/token/create",
                json!({"policies": ["reader"]}),
            )
            .await
            .unwrap();
        let auth = resp.auth.unwrap();
        let (token, accessor) = (auth.client_token, auth.accessor);
        let want = json!({
            "secret/data/app": ["read"],
            "secret/data/other": ["deny"],
            "capabilities": ["read"],
        });
        let paths = json!("secret/data/app, /secret/data/other");
        let by_self = dev
            .data(
                &token,
                Operation::Update,
                "sys/capabilities-self",
                json!({ "paths": paths }),
            )
            .await;
        assert_eq!(by_self, want);
        let by_token = dev
            .data(
                &dev.root,
                Operation::Update,
                "sys/capabilities",
                json!({ "token": token, "path": ["secret/data/app"], "paths": ["secret/data/other"] }),
            )
            .await;
        assert_eq!(by_token, want);
        let by_accessor = dev
            .data(
                &dev.root,
                Operation::Update,
                "sys/capabilities-accessor",
                json!({ "accessor": accessor, "paths": paths }),
            )
            .await;
        assert_eq!(by_accessor, want);
        // Root's own.
        let root = dev
            .data(
                &dev.root,
                Operation::Update,
                "sys/capabilities-self",
                json!({ "paths": "x" }),
            )
            .await;
        assert_eq!(root["capabilities"], json!(["root"]));
    }

    /// A batch token has no storage id: `-self` finds it from the client
    /// token itself.
    #[tokio::test]
    async fn capabilities_self_for_a_batch_token() {
        let dev = Dev::new().await;
        dev.policy("reader", READER).await;
        let batch = dev
            .token(json!({"type": "batch", "policies": ["reader"], "ttl": "10m"}))
            .await;
        let caps = dev
            .data(
                &batch,
                Operation::Update,
                "sys/capabilities-self",
                json!({ "paths": ["secret/data/app"] }),
            )
            .await;
        assert_eq!(caps["capabilities"], json!(["read"]));
    }

    /// A single-use token's one use is spent by this very request: the
    /// query still answers for it.
    #[tokio::test]
    async fn capabilities_self_with_the_last_use() {
        let dev = Dev::new().await;
        dev.policy("reader", READER).await;
        let once = dev
            .token(json!({"policies": ["reader"], "num_uses": 1}))
            .await;
        let caps = dev
            .data(
                &once,
                Operation::Update,
                "sys/capabilities-self",
                json!({ "paths": ["secret/data/app"] }),
            )
            .await;
        assert_eq!(caps["capabilities"], json!(["read"]));
        let again = dev
            .call(
                Some(&once),
                Operation::Update,
                "sys/capabilities-self",
                json!({ "paths": ["secret/data/app"] }),
            )
            .await;
        assert_eq!(status(&again), 403);
    }

    #[tokio::test]
    async fn refusals() {
        let dev = Dev::new().await;
        let root = Some(dev.root.as_str());
        let err = |r: Result<Response>| {
            let e = r.unwrap_err();
            (e.status(), e.to_string())
        };
        for (path, body, want) in [
            ("sys/capabilities-self", json!({}), "missing path"),
            ("sys/capabilities", json!({"paths": "a"}), "missing token"),
            (
                "sys/capabilities",
                json!({"paths": "a", "token": "hvs.nope"}),
                "invalid token",
            ),
            (
                "sys/capabilities-accessor",
                json!({"paths": "a"}),
                "missing accessor",
            ),
            (
                "sys/capabilities-accessor",
                json!({"paths": "a", "accessor": "nope"}),
                "invalid accessor",
            ),
        ] {
            let (code, text) = err(dev.call(root, Operation::Update, path, body).await);
            assert_eq!(code, 400, "{path}: {text}");
            assert!(text.contains(want), "{path}: {text}");
        }
        // The declared types are checked by the dispatch.
        let (code, text) = err(dev
            .call(
                root,
                Operation::Update,
                "sys/capabilities-self",
                json!({"paths": {"a": 1}}),
            )
            .await);
        assert_eq!(code, 400, "{text}");
        assert!(text.contains("paths"), "{text}");
        // Only update is declared; no token is no answer.
        let read = dev
            .call(root, Operation::Read, "sys/capabilities-self", json!({}))
            .await
            .unwrap_err();
        assert_eq!(read.kind(), ErrorKind::UnsupportedOperation);
        let anonymous = dev
            .call(
                None,
                Operation::Update,
                "sys/capabilities-self",
                json!({"paths": "a"}),
            )
            .await;
        assert_eq!(status(&anonymous), 403);
    }
}
