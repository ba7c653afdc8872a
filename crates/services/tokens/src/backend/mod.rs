//! The `auth/token/` backend: Vault's token API over a [`TokenStore`],
//! declared as one [`PathTable`] that the sdk dispatches (one `path_*`
//! module per family of endpoints).

mod path_accessors;
mod path_create;
mod path_lookup;
mod path_renew;
mod path_revoke;
mod path_roles;
mod path_tidy;
mod response;

use std::sync::Arc;

use async_trait::async_trait;
use coffer_sdk::{Backend, PathTable, Routes};
use coffer_types::{Request, Result};

use crate::{TokenEntry, TokenStore};

/// Decides whether a caller has `sudo` on a path. Vault lets root or sudo
/// callers create tokens with arbitrary policies, ids, periods or no parent,
/// and revoke-and-orphan; the core, which owns the ACL, can plug its check in
/// here. The default, [`RootPolicySudo`], grants sudo to `root` tokens only.
#[async_trait]
pub trait SudoCheck: Send + Sync {
    /// True when `caller` has the `sudo` capability on `path` (the full
    /// logical path, e.g. `auth/token/create`).
    async fn has_sudo(&self, caller: &TokenEntry, path: &str) -> bool;
}

/// Grants sudo exactly to tokens carrying the `root` policy.
#[derive(Clone, Copy, Debug, Default)]
pub struct RootPolicySudo;

#[async_trait]
impl SudoCheck for RootPolicySudo {
    async fn has_sudo(&self, caller: &TokenEntry, _path: &str) -> bool {
        caller.policies.iter().any(|p| p == "root")
    }
}

/// Vault's token auth method, mounted at `auth/token/`.
pub struct TokenBackend {
    store: Arc<TokenStore>,
    table: PathTable<TokenBackend>,
    sudo: Arc<dyn SudoCheck>,
}

impl std::fmt::Debug for TokenBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBackend")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl TokenBackend {
    /// A backend over `store`, granting sudo to root tokens only.
    pub fn new(store: Arc<TokenStore>) -> Self {
        let mut paths = Vec::new();
        paths.extend(path_create::paths());
        paths.extend(path_lookup::paths());
        paths.extend(path_renew::paths());
        paths.extend(path_revoke::paths());
        paths.extend(path_roles::paths());
        paths.extend(path_accessors::paths());
        paths.extend(path_tidy::paths());
        Self {
            store,
            table: PathTable::new(paths),
            sudo: Arc::new(RootPolicySudo),
        }
    }

    /// Replaces the sudo check (the core passes one backed by the ACL).
    pub fn with_sudo_check(mut self, check: Arc<dyn SudoCheck>) -> Self {
        self.sudo = check;
        self
    }

    /// The store this backend serves.
    pub fn store(&self) -> &Arc<TokenStore> {
        &self.store
    }

    /// The calling token's entry, if the request carries a valid token.
    pub(crate) async fn caller(&self, req: &Request) -> Result<Option<TokenEntry>> {
        match &req.client_token {
            Some(token) if !token.is_empty() => {
                Ok(self.store.lookup_tainted(token.expose()).await?)
            }
            _ => Ok(None),
        }
    }

    /// Whether `caller` has sudo on the request's full path.
    pub(crate) async fn is_sudo(&self, caller: &TokenEntry, req: &Request) -> bool {
        self.sudo.has_sudo(caller, &req.path).await
    }
}

/// The client's token as a string ("" when absent).
pub(crate) fn client_token(req: &Request) -> &str {
    req.client_token.as_ref().map(|t| t.expose()).unwrap_or("")
}

impl Backend for TokenBackend {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use coffer_sdk::{Backend, special_path_matches};
    use coffer_types::{Operation, Sensitive};
    use serde_json::json;

    use super::test_support::Harness;

    #[tokio::test]
    async fn declarations_are_vaults_token_paths() {
        let h = Harness::new().await;
        let declared: Vec<(&str, Vec<&str>)> = h
            .backend
            .paths()
            .iter()
            .map(|d| (d.pattern, d.operations.iter().map(|o| o.as_str()).collect()))
            .collect();
        assert_eq!(
            declared,
            [
                ("create-orphan", vec!["update"]),
                ("create/:role_name", vec!["update"]),
                ("create", vec!["update"]),
                ("lookup-accessor", vec!["update"]),
                ("lookup-self", vec!["read", "update"]),
                ("lookup", vec!["read", "update"]),
                ("renew-accessor", vec!["update"]),
                ("renew-self", vec!["update"]),
                ("renew", vec!["update"]),
                ("revoke-accessor", vec!["update"]),
                ("revoke-orphan", vec!["update"]),
                ("revoke-self", vec!["update"]),
                ("revoke", vec!["update"]),
                ("roles", vec!["list"]),
                (
                    "roles/:role_name",
                    vec!["read", "create", "update", "delete"]
                ),
                ("accessors", vec!["list"]),
                ("tidy", vec!["update"]),
            ]
        );
        // Tokens in bodies are secrets.
        for d in h.backend.paths() {
            for f in d.fields.iter().filter(|f| f.name == "token") {
                assert!(f.sensitive, "{}: token is not sensitive", d.pattern);
            }
        }
    }

    /// The sudo globs come from the `.sudo()` flags and protect exactly the
    /// routable paths the hand-written `revoke-orphan*` and `accessors*`
    /// protected.
    #[tokio::test]
    async fn sudo_paths_are_the_old_ones() {
        let h = Harness::new().await;
        let special = h.backend.special_paths();
        assert!(special.unauthenticated.is_empty());
        assert_eq!(special.root, ["revoke-orphan", "accessors"]);
        let old = ["revoke-orphan*".to_owned(), "accessors*".to_owned()];
        for d in h.backend.paths() {
            let path = d.pattern.replace(":role_name", "web");
            for p in [path.clone(), format!("{path}/")] {
                assert_eq!(
                    special_path_matches(&special.root, &p),
                    special_path_matches(&old, &p),
                    "{p}"
                );
            }
        }
    }

    #[tokio::test]
    async fn every_handler_reads_only_declared_fields() {
        let h = Harness::new().await;
        let root = h.root.clone();
        let found = coffer_sdk::field_walk::undeclared_reads(&h.backend, &h.ctx, |req| {
            req.client_token = Some(root.clone());
            req.mount_point = "auth/token/".into();
        })
        .await;
        assert!(found.is_empty(), "{found:?}");
    }

    #[tokio::test]
    async fn role_existence_splits_writes() {
        let h = Harness::new().await;
        assert_eq!(h.exists(&h.backend, "roles/web").await, Ok(Some(false)));
        assert_eq!(h.exists(&h.backend, "roles/-bad").await, Ok(Some(false)));
        h.call(Operation::Create, "roles/web", &h.root, json!({}))
            .await
            .unwrap();
        assert_eq!(h.exists(&h.backend, "roles/web").await, Ok(Some(true)));
        assert_eq!(h.exists(&h.backend, "lookup").await, Ok(None));
        assert_eq!(h.exists(&h.backend, "no/such/path").await, Ok(None));
        let unknown = Sensitive::new("hvs.unknown".to_owned());
        let resp = h
            .call(
                Operation::Update,
                "revoke",
                &unknown,
                json!({"token": "x", "bogus": 1}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [bogus]"]
        );
    }
}
