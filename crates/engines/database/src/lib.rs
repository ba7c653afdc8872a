//! The `database` secrets engine, speaking Vault's API.
//!
//! - `config/:name` (and LIST `config`): a connection through a plugin
//!   (`postgresql-database-plugin`, `mysql-database-plugin`,
//!   `redis-database-plugin`), its root credentials (never returned by a
//!   read), `allowed_roles`, `password_policy`, `username_template`, pool
//!   limits, and scheduled root rotation (`rotation_period` or
//!   `rotation_schedule` with `rotation_window`, which Vault keeps for its
//!   Enterprise edition); `reset/:name`; `rotate-root/:name`.
//! - `roles/:name` and `creds/:name`: a real database user per request,
//!   under a lease the core registers; renewing extends the user where the
//!   database supports expiry, revoking drops it and ends its sessions.
//! - `static-roles/:name`, `static-creds/:name`, `rotate-role/:name`: an
//!   existing user whose password the engine owns and rotates on schedule
//!   through the server's one scheduler.
//!
//! Every rotation is recorded as pending (behind the barrier) before the
//! database changes, then made current: a crash or an unreachable database
//! never leaves a user whose password nobody knows, and the rotation is
//! retried with the scheduler's back-off. Passwords come from the server's
//! password policies.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coffer_database_plugin::PluginFactory;
use coffer_sdk::{Backend, Captures, Context, RouteTable};
use coffer_types::{LeaseData, Operation, Request, Response, Result};

mod connections;
mod fields;
mod model;
mod path_config;
mod path_creds;
mod path_roles;
mod path_static;
mod rotation;
mod store;
mod username;

#[cfg(test)]
mod tests;

pub use rotation::{JOB_ROOT_ROTATION, JOB_STATIC_ROTATION};

/// Which path family a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    ConfigList,
    Config,
    Reset,
    RotateRoot,
    RoleList,
    Role,
    Creds,
    StaticRoleList,
    StaticRole,
    StaticCreds,
    RotateRole,
}

/// The database secrets engine; one instance per mount.
pub struct DatabaseBackend {
    table: RouteTable<Route>,
    factories: Vec<Arc<dyn PluginFactory>>,
    connections: tokio::sync::Mutex<HashMap<String, connections::Cached>>,
    /// Serialises config and role writes and every rotation of this mount.
    lock: tokio::sync::Mutex<()>,
    #[cfg(test)]
    fault: std::sync::Mutex<Option<rotation::Fault>>,
}

impl std::fmt::Debug for DatabaseBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseBackend")
            .field(
                "plugins",
                &self.factories.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl DatabaseBackend {
    /// The engine with the given plugins (the server passes PostgreSQL,
    /// MySQL/MariaDB and Redis).
    pub fn new(factories: Vec<Arc<dyn PluginFactory>>) -> Self {
        Self {
            table: RouteTable::new(vec![
                (path_config::list_definition(), Route::ConfigList),
                (path_config::definition(), Route::Config),
                (path_config::reset_definition(), Route::Reset),
                (path_config::rotate_root_definition(), Route::RotateRoot),
                (path_roles::list_definition(), Route::RoleList),
                (path_roles::definition(), Route::Role),
                (path_creds::definition(), Route::Creds),
                (path_static::list_definition(), Route::StaticRoleList),
                (path_static::definition(), Route::StaticRole),
                (path_static::creds_definition(), Route::StaticCreds),
                (path_static::rotate_definition(), Route::RotateRole),
            ]),
            factories,
            connections: tokio::sync::Mutex::new(HashMap::new()),
            lock: tokio::sync::Mutex::new(()),
            #[cfg(test)]
            fault: std::sync::Mutex::new(None),
        }
    }
}

/// One request as the handlers see it.
pub(crate) struct Call<'a> {
    pub ctx: &'a Context,
    pub req: &'a Request,
    pub captures: Captures,
    pub op: Operation,
}

impl Call<'_> {
    /// The `name` capture, checked.
    pub(crate) fn name(&self) -> Result<&str> {
        let name = self.captures.get("name");
        fields::check_name(name)?;
        Ok(name)
    }
}

#[async_trait]
impl Backend for DatabaseBackend {
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
        let call = Call {
            ctx,
            req,
            captures: matched.captures.clone(),
            op,
        };
        let fields = matched.def.fields;
        match matched.route {
            Route::ConfigList => path_config::list(&call).await,
            Route::Config => path_config::handle(self, &call, fields).await,
            Route::Reset => path_config::reset(self, &call).await,
            Route::RotateRoot => path_config::rotate_root(self, &call).await,
            Route::RoleList => path_roles::list(&call).await,
            Route::Role => path_roles::handle(self, &call, fields).await,
            Route::Creds => path_creds::issue(self, &call).await,
            Route::StaticRoleList => path_static::list(&call).await,
            Route::StaticRole => path_static::handle(self, &call, fields).await,
            Route::StaticCreds => path_static::creds(&call).await,
            Route::RotateRole => path_static::rotate(self, &call).await,
        }
    }

    async fn exists(&self, ctx: &Context, req: &Request) -> Result<Option<bool>> {
        let matched = self.table.route(&req.path)?;
        let kind = match matched.route {
            Route::Config => store::Kind::Config,
            Route::Role => store::Kind::Role,
            Route::StaticRole => store::Kind::StaticRole,
            _ => return Ok(None),
        };
        let name = matched.captures.get("name");
        if fields::check_name(name).is_err() {
            return Ok(Some(false));
        }
        let found: Option<serde_json::Value> = store::get(&ctx.storage, kind, name).await?;
        Ok(Some(found.is_some()))
    }

    async fn cleanup(&self, ctx: &Context) -> Result<()> {
        for name in store::list(&ctx.storage, store::Kind::StaticRole).await? {
            ctx.services
                .jobs
                .unschedule(&rotation::static_job(&name))
                .await?;
        }
        for name in store::list(&ctx.storage, store::Kind::Config).await? {
            ctx.services
                .jobs
                .unschedule(&rotation::root_job(&name))
                .await?;
            self.drop_connection(&name).await;
        }
        Ok(())
    }

    async fn revoke_lease(&self, ctx: &Context, lease: &LeaseData) -> Result<()> {
        path_creds::revoke(self, ctx, lease).await
    }

    async fn renew_lease(
        &self,
        ctx: &Context,
        lease: &LeaseData,
        increment: Duration,
    ) -> Result<Duration> {
        path_creds::renew(self, ctx, lease, increment).await
    }

    async fn run_scheduled(&self, ctx: &Context, job: &str, kind: &str) -> Result<()> {
        rotation::run_scheduled(self, ctx, job, kind).await
    }
}
