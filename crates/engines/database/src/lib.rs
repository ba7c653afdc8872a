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
use coffer_sdk::{Backend, Context, Path, PathTable, Routes, handler};
use coffer_types::{LeaseData, Result};

mod connections;
mod error;
mod fields;
mod model;
mod path_config;
mod path_creds;
mod path_roles;
mod path_static;
mod rotation;
mod store;
mod username;

pub use error::DatabaseError;

#[cfg(test)]
mod tests;

pub use rotation::{JOB_ROOT_ROTATION, JOB_STATIC_ROTATION};

/// The database secrets engine; one instance per mount.
pub struct DatabaseBackend {
    table: PathTable<DatabaseBackend>,
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
            table: PathTable::new(vec![
                Path::new(path_config::list_definition()).list(handler!(path_config::list)),
                Path::new(path_config::definition())
                    .read(handler!(path_config::read))
                    .update(handler!(path_config::write))
                    .delete(handler!(path_config::delete))
                    .existence(handler!(path_config::exists)),
                Path::new(path_config::reset_definition()).update(handler!(path_config::reset)),
                Path::new(path_config::rotate_root_definition())
                    .update(handler!(path_config::rotate_root)),
                Path::new(path_roles::list_definition()).list(handler!(path_roles::list)),
                Path::new(path_roles::definition())
                    .read(handler!(path_roles::read))
                    .update(handler!(path_roles::write))
                    .delete(handler!(path_roles::delete))
                    .existence(handler!(path_roles::exists)),
                Path::new(path_creds::definition()).read(handler!(path_creds::issue)),
                Path::new(path_static::list_definition()).list(handler!(path_static::list)),
                Path::new(path_static::definition())
                    .read(handler!(path_static::read))
                    .update(handler!(path_static::write))
                    .delete(handler!(path_static::delete))
                    .existence(handler!(path_static::exists)),
                Path::new(path_static::creds_definition()).read(handler!(path_static::creds)),
                Path::new(path_static::rotate_definition()).update(handler!(path_static::rotate)),
            ]),
            factories,
            connections: tokio::sync::Mutex::new(HashMap::new()),
            lock: tokio::sync::Mutex::new(()),
            #[cfg(test)]
            fault: std::sync::Mutex::new(None),
        }
    }
}

#[async_trait]
impl Backend for DatabaseBackend {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
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
