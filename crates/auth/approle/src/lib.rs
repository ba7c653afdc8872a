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
use coffer_sdk::{Backend, Context, Path, PathTable, Routes, handler};
use coffer_types::{LoginGrant, Result};

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

use store::Store;

/// The AppRole auth method; one instance per mount.
#[derive(Debug)]
pub struct AppRole {
    table: PathTable<AppRole>,
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
        use path_secret_id_ops as ops;
        let mut paths = vec![
            Path::new(path_login::definition())
                .update(handler!(path_login::login))
                .unauthenticated(),
            Path::new(path_tidy::definition()).update(handler!(path_tidy::tidy)),
            Path::new(path_role::list_definition()).list(handler!(path_role::list)),
            Path::new(path_role::definition())
                .read(handler!(path_role::read))
                .update(handler!(path_role::write))
                .delete(handler!(path_role::delete))
                .existence(handler!(path_role::exists)),
            Path::new(path_role_id::definition())
                .read(handler!(path_role_id::read))
                .update(handler!(path_role_id::update)),
            Path::new(path_secret_id::definition())
                .update(handler!(path_secret_id::generate))
                .list(handler!(path_secret_id::list)),
            Path::new(path_secret_id::custom_definition()).update(handler!(path_secret_id::custom)),
            Path::new(ops::lookup_definition()).update(handler!(ops::lookup)),
            Path::new(ops::destroy_definition())
                .update(handler!(ops::destroy))
                .delete(handler!(ops::destroy)),
            Path::new(ops::accessor_lookup_definition()).update(handler!(ops::accessor_lookup)),
            Path::new(ops::accessor_destroy_definition())
                .update(handler!(ops::accessor_destroy))
                .delete(handler!(ops::accessor_destroy)),
        ];
        paths.extend(path_role_fields::paths());
        Self {
            table: PathTable::new(paths),
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
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
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

    use coffer_types::Operation;

    #[test]
    fn login_is_unauthenticated() {
        let special = AppRole::new().special_paths();
        assert_eq!(special.unauthenticated, ["login"]);
        assert!(special.root.is_empty());
    }

    /// The paths and operations Vault's AppRole has, in matching order.
    #[test]
    fn declarations_are_vaults() {
        use Operation::*;
        let b = AppRole::new();
        let got: Vec<(&str, Vec<Operation>, bool)> = b
            .paths()
            .into_iter()
            .map(|d| (d.pattern, d.operations.to_vec(), d.existence_check))
            .collect();
        let rw = vec![Read, Update, Delete];
        let want = vec![
            ("login", vec![Update], false),
            ("tidy/secret-id", vec![Update], false),
            ("role", vec![List], false),
            ("role/:role_name", vec![Create, Update, Read, Delete], true),
            ("role/:role_name/role-id", vec![Read, Update], false),
            ("role/:role_name/secret-id", vec![Update, List], false),
            ("role/:role_name/custom-secret-id", vec![Update], false),
            ("role/:role_name/secret-id/lookup", vec![Update], false),
            (
                "role/:role_name/secret-id/destroy",
                vec![Update, Delete],
                false,
            ),
            (
                "role/:role_name/secret-id-accessor/lookup",
                vec![Update],
                false,
            ),
            (
                "role/:role_name/secret-id-accessor/destroy",
                vec![Update, Delete],
                false,
            ),
            ("role/:role_name/policies", rw.clone(), false),
            ("role/:role_name/secret-id-num-uses", rw.clone(), false),
            ("role/:role_name/secret-id-ttl", rw.clone(), false),
            ("role/:role_name/token-ttl", rw.clone(), false),
            ("role/:role_name/token-max-ttl", rw.clone(), false),
            ("role/:role_name/token-num-uses", rw.clone(), false),
            ("role/:role_name/bind-secret-id", rw.clone(), false),
            ("role/:role_name/secret-id-bound-cidrs", rw.clone(), false),
            ("role/:role_name/token-bound-cidrs", rw.clone(), false),
            ("role/:role_name/period", rw, false),
            ("role/:role_name/local-secret-ids", vec![Read], false),
        ];
        assert_eq!(got, want);
        // Secret ids are secrets wherever they are accepted, and so is the
        // role id a login presents.
        for d in b.paths() {
            for f in d.fields {
                if f.name == "secret_id" || (d.pattern == "login" && f.name == "role_id") {
                    assert!(f.sensitive, "{} {}", d.pattern, f.name);
                }
            }
        }
    }

    /// Every handler reads only fields its path declares (the token fields'
    /// deprecated names included).
    #[tokio::test]
    async fn handlers_read_only_declared_fields() {
        let h = Harness::new();
        let problems = coffer_sdk::field_walk::undeclared_reads(&h.backend, &h.ctx, |_| {}).await;
        assert!(problems.is_empty(), "{problems:#?}");
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
