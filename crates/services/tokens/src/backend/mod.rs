//! The `auth/token/` backend: Vault's token API over a [`TokenStore`].

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
use coffer_sdk::{Backend, Context, FieldData, PathTable, SpecialPaths};
use coffer_types::{Error, Operation, Request, Response, Result};

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

/// Which handler a path goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Create,
    CreateOrphan,
    CreateRole,
    Lookup,
    LookupSelf,
    LookupAccessor,
    Renew,
    RenewSelf,
    RenewAccessor,
    Revoke,
    RevokeSelf,
    RevokeAccessor,
    RevokeOrphan,
    Roles,
    Role,
    Accessors,
    Tidy,
}

/// Vault's token auth method, mounted at `auth/token/`.
pub struct TokenBackend {
    store: Arc<TokenStore>,
    table: PathTable<Route>,
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
        let mount = if req.mount_point.is_empty() {
            "auth/token/"
        } else {
            req.mount_point.as_str()
        };
        self.sudo
            .has_sudo(caller, &format!("{mount}{}", req.path))
            .await
    }
}

/// The client's token as a string ("" when absent).
pub(crate) fn client_token(req: &Request) -> &str {
    req.client_token.as_ref().map(|t| t.expose()).unwrap_or("")
}

/// A LIST answer; Vault answers 404 for an empty list.
pub(crate) fn list_response(keys: Vec<String>) -> Result<Option<Response>> {
    if keys.is_empty() {
        return Err(Error::not_found());
    }
    let mut data = serde_json::Map::new();
    data.insert("keys".into(), serde_json::Value::from(keys));
    Ok(Some(Response::with_data(data)))
}

#[async_trait]
impl Backend for TokenBackend {
    fn paths(&self) -> Vec<&coffer_sdk::PathDef> {
        self.table.declarations().collect()
    }

    async fn handle(&self, _ctx: &Context, req: &Request) -> Result<Option<Response>> {
        if req.op() == Operation::Help {
            return self.table.help(&req.path).map(Some);
        }
        let matched = self.table.route(&req.path)?;
        matched.require_operation(req.op())?;
        let fields = FieldData::new(&req.data, matched.def.fields)?;
        let caps = &matched.captures;
        match matched.route {
            Route::Create => {
                path_create::handle(self, req, &fields, path_create::Kind::Plain).await
            }
            Route::CreateOrphan => {
                path_create::handle(self, req, &fields, path_create::Kind::Orphan).await
            }
            Route::CreateRole => {
                path_create::handle(
                    self,
                    req,
                    &fields,
                    path_create::Kind::Role(caps.get("role_name")),
                )
                .await
            }
            Route::Lookup => path_lookup::lookup(self, req, &fields).await,
            Route::LookupSelf => path_lookup::lookup_self(self, req).await,
            Route::LookupAccessor => path_lookup::lookup_accessor(self, &fields).await,
            Route::Renew => path_renew::renew(self, &fields).await,
            Route::RenewSelf => path_renew::renew_self(self, req, &fields).await,
            Route::RenewAccessor => path_renew::renew_accessor(self, &fields).await,
            Route::Revoke => path_revoke::revoke(self, &fields).await,
            Route::RevokeSelf => path_revoke::revoke_self(self, req).await,
            Route::RevokeAccessor => path_revoke::revoke_accessor(self, &fields).await,
            Route::RevokeOrphan => path_revoke::revoke_orphan(self, req, &fields).await,
            Route::Roles => path_roles::list(self).await,
            Route::Role => path_roles::handle(self, req, &fields, caps.get("role_name")).await,
            Route::Accessors => path_accessors::list(self).await,
            Route::Tidy => path_tidy::tidy(self).await,
        }
    }

    async fn exists(&self, _ctx: &Context, req: &Request) -> Result<Option<bool>> {
        match self.table.matches(&req.path) {
            Some(m) if m.route == Route::Role => {
                let name = m.captures.get("role_name");
                if !crate::valid_role_name(name) {
                    return Ok(Some(false));
                }
                Ok(Some(self.store.role(name).await?.is_some()))
            }
            _ => Ok(None),
        }
    }

    fn special_paths(&self) -> SpecialPaths {
        SpecialPaths {
            unauthenticated: Vec::new(),
            root: vec!["revoke-orphan*".to_owned(), "accessors*".to_owned()],
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;
    use std::time::Duration;

    use coffer_sdk::{Backend, Context, ManualClock, MountConfig};
    use coffer_storage::{MemoryStorage, Prefix, Storage, View};
    use coffer_types::{Operation, Request, Response, Result, Sensitive};
    use serde_json::{Map, Value};

    use super::TokenBackend;
    use crate::{TokenStore, TtlLimits};

    /// A backend over a fresh memory store, with the clock and a root token.
    pub(crate) struct Harness {
        pub clock: Arc<ManualClock>,
        pub backend: TokenBackend,
        pub ctx: Context,
        pub root: Sensitive,
    }

    impl Harness {
        pub(crate) async fn new() -> Self {
            let dyn_mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
            let clock = Arc::new(ManualClock::starting_now());
            let limits = TtlLimits {
                default_ttl: Duration::from_secs(3600),
                max_ttl: Duration::from_secs(10 * 3600),
            };
            let store = Arc::new(TokenStore::new(
                View::new(dyn_mem.clone(), Prefix::new("sys/token/").unwrap()),
                clock.clone(),
                limits,
            ));
            let (root, _) = store.create_root_token(None).await.unwrap();
            let ctx = Context {
                storage: View::new(dyn_mem, Prefix::new("auth/token-mount/").unwrap()),
                config: MountConfig {
                    path: "auth/token/".into(),
                    ..MountConfig::default()
                },
                clock: clock.clone(),
                services: coffer_sdk::Services::default(),
            };
            Self {
                clock,
                backend: TokenBackend::new(store),
                ctx,
                root,
            }
        }

        pub(crate) async fn call(
            &self,
            op: Operation,
            path: &str,
            token: &Sensitive,
            body: Value,
        ) -> Result<Option<Response>> {
            let data: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
            let mut req = Request::new(op, path)
                .with_data(data)
                .with_token(token.clone());
            req.mount_point = "auth/token/".into();
            self.backend.handle(&self.ctx, &req).await
        }

        /// Creates a token through the API and returns it.
        pub(crate) async fn create(&self, parent: &Sensitive, body: Value) -> Sensitive {
            let resp = self
                .call(Operation::Update, "create", parent, body)
                .await
                .unwrap()
                .unwrap();
            Sensitive::new(resp.auth.unwrap().client_token)
        }

        pub(crate) fn data(resp: Option<Response>) -> Map<String, Value> {
            resp.and_then(|r| r.data).unwrap_or_default()
        }
    }
}
