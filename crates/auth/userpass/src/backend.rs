//! The [`Userpass`] backend: its path table (each declaration bound to its
//! handlers) and the [`Backend`] implementation that dispatches through it.

use async_trait::async_trait;
use coffer_sdk::{Backend, Context, Path, PathTable, Routes, handler};
use coffer_types::{LoginGrant, Result};
use tokio::sync::Mutex;

use crate::{path_login, path_password, path_policies, path_users};

/// Vault's `userpass` auth method: users with Argon2id-hashed passwords and
/// token parameters, who log in at `login/:username`.
#[derive(Debug)]
pub struct Userpass {
    table: PathTable<Userpass>,
    /// Serialises read-modify-write updates of user entries.
    pub(crate) write_lock: Mutex<()>,
}

impl Userpass {
    /// The auth method with all its paths.
    pub fn new() -> Self {
        Self {
            table: PathTable::new(vec![
                Path::new(path_login::def())
                    .update(handler!(path_login::login))
                    .unauthenticated(),
                Path::new(path_password::def()).update(handler!(path_password::update)),
                Path::new(path_policies::def()).update(handler!(path_policies::update)),
                Path::new(path_users::user_def())
                    .read(handler!(path_users::read))
                    .update(handler!(path_users::write))
                    .delete(handler!(path_users::delete))
                    .existence(handler!(path_users::exists)),
                Path::new(path_users::list_def()).list(handler!(path_users::list)),
            ]),
            write_lock: Mutex::new(()),
        }
    }
}

impl Default for Userpass {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Backend for Userpass {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }

    async fn renew_login(&self, ctx: &Context, grant: &LoginGrant) -> Result<LoginGrant> {
        path_login::renew(ctx, grant).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Harness;
    use coffer_types::{Operation, Request};
    use serde_json::json;

    /// The paths, operations and special paths Vault's userpass has.
    #[test]
    fn declarations_are_vaults() {
        use Operation::*;
        let b = Userpass::new();
        let got: Vec<(&str, Vec<Operation>, bool)> = b
            .paths()
            .into_iter()
            .map(|d| (d.pattern, d.operations.to_vec(), d.existence_check))
            .collect();
        assert_eq!(
            got,
            vec![
                ("login/:username", vec![Update], false),
                ("users/:username/password", vec![Update], false),
                ("users/:username/policies", vec![Update], false),
                ("users/:username", vec![Read, Create, Update, Delete], true),
                ("users", vec![List], false),
            ]
        );
        let special = b.special_paths();
        assert_eq!(special.unauthenticated, ["login/+"]);
        assert!(special.root.is_empty());
        // Passwords are secrets wherever they are accepted.
        for d in b.paths() {
            for f in d.fields.iter().filter(|f| f.name == "password") {
                assert!(f.sensitive, "{}", d.pattern);
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

    #[test]
    fn login_is_unauthenticated() {
        let special = Userpass::new().special_paths().unauthenticated;
        let m = |p: &str| coffer_sdk::special_path_matches(&special, p);
        assert!(m("login/bob") && m("login/bob.smith@example.com"));
        assert!(!m("users/bob") && !m("users") && !m("login"));
    }

    #[tokio::test]
    async fn existence_check_only_for_users() {
        let h = Harness::new();
        let b = Userpass::new();
        let exists = async |path: &str| {
            b.exists(&h.ctx, &Request::new(Operation::Update, path))
                .await
        };
        assert_eq!(exists("users/pat").await.unwrap(), Some(false));
        h.ok(Operation::Create, "users/pat", json!({"password": "x"}))
            .await;
        assert_eq!(exists("users/PAT").await.unwrap(), Some(true));
        assert_eq!(exists("login/pat").await.unwrap(), None);
        assert_eq!(exists("users/pat/password").await.unwrap(), None);
        assert_eq!(exists("users/-pat").await.unwrap_err().status(), 404);
        // An unknown path has no existence check: it fails after the ACL.
        assert_eq!(exists("nope").await.unwrap(), None);
    }

    #[tokio::test]
    async fn help_and_unknown_paths() {
        let h = Harness::new();
        let resp = h
            .call(Operation::Help, "login/x", json!({}))
            .await
            .unwrap()
            .unwrap();
        let help = resp.data.unwrap()["help"].as_str().unwrap().to_owned();
        assert!(
            help.contains("Log in with a username and password."),
            "{help}"
        );
        let err = h
            .call(Operation::Read, "config", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (404, &["unsupported path".to_owned()][..])
        );
        let err = h
            .call(Operation::Read, "login/x", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 405);
        let err = h
            .call(Operation::Update, "login/-x", json!({"password": "p"}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
    }
}
