//! The [`Userpass`] backend: routing of requests to the path families.

use async_trait::async_trait;
use coffer_sdk::{Backend, Context, FieldData, RouteTable, SpecialPaths};
use coffer_types::{Error, LoginGrant, Operation, Request, Response, Result};
use tokio::sync::Mutex;

use crate::{path_login, path_password, path_policies, path_users, user};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Login,
    Password,
    Policies,
    User,
    Users,
}

/// Vault's `userpass` auth method: users with Argon2id-hashed passwords and
/// token parameters, who log in at `login/:username`.
#[derive(Debug)]
pub struct Userpass {
    table: RouteTable<Route>,
    /// Serialises read-modify-write updates of user entries.
    write_lock: Mutex<()>,
}

impl Userpass {
    /// The auth method with all its paths.
    pub fn new() -> Self {
        Self {
            table: RouteTable::new(vec![
                (path_login::def(), Route::Login),
                (path_password::def(), Route::Password),
                (path_policies::def(), Route::Policies),
                (path_users::user_def(), Route::User),
                (path_users::list_def(), Route::Users),
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

/// Vault's warning for body fields no declaration knows.
fn warn_ignored(resp: Option<Response>, ignored: Vec<String>) -> Option<Response> {
    if ignored.is_empty() {
        return resp;
    }
    let mut ignored = ignored;
    ignored.sort();
    let resp = resp.unwrap_or_default().warn(format!(
        "Endpoint ignored these unrecognized parameters: [{}]",
        ignored.join(" ")
    ));
    Some(resp)
}

#[async_trait]
impl Backend for Userpass {
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
        let fields = FieldData::new(&req.data, matched.def.fields)?;
        if matched.route == Route::Users {
            return path_users::list(ctx).await;
        }
        let name = user::normalize(matched.captures.get("username"))?;
        let lock = &self.write_lock;
        let resp = match (matched.route, op) {
            (Route::Login, _) => path_login::login(ctx, req, &name, &fields).await?,
            (Route::Password, _) => path_password::update(ctx, lock, &name, &fields).await?,
            (Route::Policies, _) => path_policies::update(ctx, lock, &name, &fields).await?,
            (Route::User, Operation::Read) => path_users::read(ctx, &name).await?,
            (Route::User, Operation::Delete) => path_users::delete(ctx, lock, &name).await?,
            (Route::User, _) => path_users::write(ctx, lock, &name, &fields).await?,
            (Route::Users, _) => return Err(Error::unsupported("unsupported operation")),
        };
        match op {
            Operation::Create | Operation::Update => {
                Ok(warn_ignored(resp, fields.unknown_fields()))
            }
            _ => Ok(resp),
        }
    }

    async fn exists(&self, ctx: &Context, req: &Request) -> Result<Option<bool>> {
        let matched = self.table.route(&req.path)?;
        if matched.route != Route::User {
            return Ok(None);
        }
        let name = user::normalize(matched.captures.get("username"))?;
        Ok(Some(user::load(&ctx.storage, &name).await?.is_some()))
    }

    fn special_paths(&self) -> SpecialPaths {
        SpecialPaths {
            unauthenticated: vec!["login/*".to_owned()],
            root: Vec::new(),
        }
    }

    async fn renew_login(&self, ctx: &Context, grant: &LoginGrant) -> Result<LoginGrant> {
        path_login::renew(ctx, grant).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Harness;
    use serde_json::json;

    #[test]
    fn login_is_unauthenticated() {
        assert_eq!(Userpass::new().special_paths().unauthenticated, ["login/*"]);
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
        assert_eq!(exists("nope").await.unwrap_err().status(), 404);
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
