//! The AppRole auth method, speaking Vault's API exactly: machines log in
//! with a role id and (by default) a secret id, and get a token whose
//! parameters come from the role.
//!
//! - `role` (LIST) and `role/:role_name` (create, update, read, delete), with
//!   `bind_secret_id`, `secret_id_bound_cidrs`, `secret_id_num_uses`,
//!   `secret_id_ttl`, `local_secret_ids` and the common `token_*` fields;
//! - the per-field endpoints (`role/:role_name/policies`, `.../token-ttl`, ...);
//! - `role/:role_name/role-id` (read, or set a custom role id);
//! - `role/:role_name/secret-id` (generate; LIST accessors),
//!   `.../custom-secret-id`, `.../secret-id/{lookup,destroy}` and
//!   `.../secret-id-accessor/{lookup,destroy}`;
//! - `login` (unauthenticated), returning a [`coffer_types::LoginGrant`] for
//!   the core to turn into a token, and [`Backend::renew_login`];
//! - `tidy/secret-id`.
//!
//! Secret ids are never stored: only their HMAC-SHA256 under a random
//! per-mount salt. Use counts are spent under an exclusive lock, so
//! concurrent logins cannot overspend a secret id; logins with a secret id
//! of unlimited uses change nothing and share the lock. Expiry follows the injected clock.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use async_trait::async_trait;
use coffer_sdk::{Backend, Context, RouteTable, SpecialPaths};
use coffer_types::{LoginGrant, Operation, Request, Response, Result};

mod cidrs;
mod env;
mod error;
mod metadata;
mod path_login;
mod path_role;
mod path_role_fields;
mod path_role_id;
mod path_secret_id;
mod path_secret_id_ops;
mod path_tidy;
mod role;
mod secret_id;
mod store;

#[cfg(test)]
mod test_support;

pub use error::AppRoleError;

use env::Env;
use path_role_fields::RoleField;
use path_secret_id_ops::Op as SecretIdOp;
use store::Store;

/// Which path family a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Login,
    Tidy,
    RoleList,
    Role,
    RoleId,
    SecretId,
    CustomSecretId,
    SecretIdOp(SecretIdOp),
    Field(RoleField),
}

/// The AppRole auth method; one instance per mount.
#[derive(Debug)]
pub struct AppRole {
    table: RouteTable<Route>,
    /// Serialises read-modify-write of roles and secret ids; logins that
    /// change nothing hold it shared.
    lock: tokio::sync::RwLock<()>,
    /// The mount's salt, loaded once.
    salt: store::SaltCell,
    /// Decoded records of the mount.
    records: store::RecordCache,
}

impl AppRole {
    /// The method with its path table.
    pub fn new() -> Self {
        let mut entries = vec![
            (path_login::definition(), Route::Login),
            (path_tidy::definition(), Route::Tidy),
            (path_role::list_definition(), Route::RoleList),
            (path_role::definition(), Route::Role),
            (path_role_id::definition(), Route::RoleId),
            (path_secret_id::definition(), Route::SecretId),
            (path_secret_id::custom_definition(), Route::CustomSecretId),
        ];
        entries.extend(
            path_secret_id_ops::definitions()
                .into_iter()
                .map(|(def, op)| (def, Route::SecretIdOp(op))),
        );
        entries.extend(
            path_role_fields::definitions()
                .into_iter()
                .map(|(def, field)| (def, Route::Field(field))),
        );
        Self {
            table: RouteTable::new(entries),
            lock: tokio::sync::RwLock::new(()),
            salt: store::SaltCell::new(),
            records: store::record_cache(),
        }
    }
}

impl Default for AppRole {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Backend for AppRole {
    fn paths(&self) -> Vec<&coffer_sdk::PathDef> {
        self.table.declarations().collect()
    }

    async fn handle(&self, ctx: &Context, req: &Request) -> Result<Option<Response>> {
        let op = req.op();
        if op == Operation::Help {
            return self.table.help(&req.path).map(Some);
        }
        let matched = self.table.route(&req.path)?;
        matched.require_operation(op)?;
        let env = Env {
            ctx,
            req,
            store: Store::open(&ctx.storage, &self.salt, &self.records).await?,
            lock: &self.lock,
            captures: matched.captures.clone(),
        };
        match matched.route {
            Route::Login => path_login::handle(&env).await,
            Route::Tidy => path_tidy::handle(&env).await,
            Route::RoleList => path_role::list(&env).await,
            Route::Role => path_role::handle(&env, op).await,
            Route::RoleId => path_role_id::handle(&env, op).await,
            Route::SecretId => path_secret_id::handle(&env, op).await,
            Route::CustomSecretId => path_secret_id::handle_custom(&env).await,
            Route::SecretIdOp(which) => path_secret_id_ops::handle(&env, which).await,
            Route::Field(field) => {
                path_role_fields::handle(&env, field, op, matched.def.fields).await
            }
        }
    }

    async fn exists(&self, ctx: &Context, req: &Request) -> Result<Option<bool>> {
        let matched = self.table.route(&req.path)?;
        if matched.route != Route::Role {
            return Ok(None);
        }
        let env = Env {
            ctx,
            req,
            store: Store::open(&ctx.storage, &self.salt, &self.records).await?,
            lock: &self.lock,
            captures: matched.captures.clone(),
        };
        path_role::exists(&env).await.map(Some)
    }

    fn special_paths(&self) -> SpecialPaths {
        SpecialPaths {
            unauthenticated: vec!["login".to_owned()],
            root: Vec::new(),
        }
    }

    async fn renew_login(&self, ctx: &Context, grant: &LoginGrant) -> Result<LoginGrant> {
        let store = Store::open(&ctx.storage, &self.salt, &self.records).await?;
        path_login::renew(&store, grant).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Harness;
    use serde_json::json;

    #[test]
    fn login_is_unauthenticated() {
        assert_eq!(AppRole::new().special_paths().unauthenticated, ["login"]);
    }

    #[tokio::test]
    async fn help_unknown_paths_and_operations() {
        let h = Harness::new();
        let help = h
            .call(Operation::Help, "role/web/secret-id", json!({}))
            .await
            .unwrap()
            .unwrap();
        let text = help.data.unwrap()["help"].as_str().unwrap().to_owned();
        assert!(text.contains("Generate a SecretID against this role."));
        assert!(text.contains("cidr_list"));
        assert_eq!(
            h.call(Operation::Read, "nope", json!({}))
                .await
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            h.call(Operation::Read, "login", json!({}))
                .await
                .unwrap_err()
                .status(),
            405
        );
        assert_eq!(
            h.call(Operation::Delete, "role/web/local-secret-ids", json!({}))
                .await
                .unwrap_err()
                .status(),
            405
        );
    }

    #[tokio::test]
    async fn debug_shows_no_secrets() {
        // After a login the backend holds everything it ever holds: the
        // salt loaded and records decoded in its cache.
        let h = Harness::new();
        h.call(Operation::Update, "role/web", json!({}))
            .await
            .unwrap();
        let role_id = h.role_id("web").await;
        let resp = h
            .call(Operation::Update, "role/web/secret-id", json!({}))
            .await
            .unwrap()
            .unwrap();
        let data = resp.data.unwrap();
        let secret_id = data["secret_id"].as_str().unwrap().to_owned();
        let accessor = data["secret_id_accessor"].as_str().unwrap().to_owned();
        h.login(&role_id, &secret_id, None).await.unwrap();
        assert!(h.backend.salt.initialized(), "the salt is not loaded");
        assert!(!h.backend.records.is_empty(), "no records are cached");
        let salt = coffer_storage::Storage::get(
            &*h.mem,
            &coffer_storage::Key::new("auth/test-mount/salt").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(salt.len(), 32);

        let shown = format!("{:?} {:#?}", h.backend, h.backend);
        assert!(shown.contains("AppRole"));
        let salt_hex: String = salt.iter().map(|b| format!("{b:02x}")).collect();
        // `[u8]`'s Debug form, without the closing bracket: any run of bytes.
        let salt_list = format!("{:?}", &salt[..8]);
        let salt_list = salt_list.trim_end_matches(']');
        for (what, secret) in [
            ("secret id", secret_id.as_str()),
            ("role id", role_id.as_str()),
            ("secret id accessor", accessor.as_str()),
            ("salt (hex)", salt_hex.as_str()),
            ("salt (bytes)", salt_list),
        ] {
            // The message leaves the output out: it would print the secret.
            assert!(!shown.contains(secret), "Debug shows the {what}");
        }
    }
}
