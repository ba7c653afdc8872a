//! The backend trait and what a backend is given.
//!
//! [`Backend`] is what the core mounts and calls, always as `dyn Backend`.
//! A backend over a [`crate::PathTable`] implements [`Backend::routes`]
//! (`self.table.bind(self)`) and gets `handle`, `exists`, `special_paths`
//! and `paths` from it (see [`crate::Routes`]), then overrides only the
//! hooks it needs (`token_revoked`, `cleanup`, `renew_login`,
//! `revoke_lease`, `run_scheduled`, `renew_lease`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coffer_storage::View;
use coffer_types::{LeaseData, LoginGrant, Request, Response, Result};
use serde_json::{Map, Value};

use crate::{Clock, PathDef, Routes, SdkError};

/// A mount's configuration as the backend sees it.
#[derive(Clone, Debug, Default)]
pub struct MountConfig {
    /// The mount path (`secret/`).
    pub path: String,
    /// The mount's unique accessor (`kv_1a2b3c4d`).
    pub accessor: String,
    /// Default lease TTL for this mount (already resolved against the system default).
    pub default_lease_ttl: Duration,
    /// Maximum lease TTL for this mount (already resolved against the system maximum).
    pub max_lease_ttl: Duration,
    /// The mount's `options` map (`version` for KV).
    pub options: Map<String, Value>,
}

/// What a backend gets with every request.
#[derive(Clone)]
pub struct Context {
    /// The backend's own storage view: the only storage it can reach.
    pub storage: View,
    /// Its mount's configuration.
    pub config: MountConfig,
    /// The server clock.
    pub clock: Arc<dyn Clock>,
    /// The scheduler and password generation, lent by the core.
    pub services: crate::Services,
}

/// Paths of a backend that need special treatment by the core.
#[derive(Clone, Debug, Default)]
pub struct SpecialPaths {
    /// Paths reachable without a token (login endpoints). A trailing `*` is a prefix.
    pub unauthenticated: Vec<String>,
    /// Paths that need the `sudo` capability in addition to the operation's.
    pub root: Vec<String>,
}

/// A secrets engine or auth method.
///
/// A backend over a [`crate::PathTable`] writes one method, `routes`:
///
/// ```
/// use coffer_sdk::types::{Operation, Response, Result};
/// use coffer_sdk::{Backend, Call, Path, PathDef, PathTable, Routes, handler};
///
/// struct Hello {
///     table: PathTable<Hello>,
/// }
///
/// impl Backend for Hello {
///     fn routes(&self) -> Routes<'_> {
///         self.table.bind(self) // or TABLE.bind(self) for a static table
///     }
/// }
///
/// async fn login(_: &Hello, _: &Call<'_>) -> Result<Option<Response>> {
///     Ok(None)
/// }
///
/// let login_path = PathDef {
///     pattern: "login/:name",
///     fields: &[],
///     operations: &[Operation::Update],
///     existence_check: false,
///     synopsis: "Log in.",
///     description: "",
/// };
/// let hello = Hello {
///     table: PathTable::new(vec![
///         Path::new(login_path).update(handler!(login)).unauthenticated(),
///     ]),
/// };
/// assert_eq!(hello.special_paths().unauthenticated, ["login/+"]);
/// assert_eq!(hello.paths()[0].pattern, "login/:name");
/// ```
///
/// and the provided [`handle`](Backend::handle),
/// [`exists`](Backend::exists), [`special_paths`](Backend::special_paths)
/// and [`paths`](Backend::paths) answer from that table, so none of them can
/// be forgotten; it adds the hooks it needs (with `#[async_trait]` on the
/// impl when they are async). A backend without a table (the `sys/`
/// [`crate::Assembly`], a mount the catalog cannot build, test doubles)
/// writes `handle` itself and whichever of the other three it answers.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The backend's path table bound to the backend:
    /// `self.table.bind(self)`, or `TABLE.bind(self)` for a static table.
    /// The default, [`Routes::none`], is a backend without a table, which
    /// must then write [`handle`](Backend::handle) itself.
    fn routes(&self) -> Routes<'_> {
        Routes::none()
    }

    /// Handles a request whose `relative_path` is relative to the mount.
    /// `Ok(None)` means success with nothing to say (HTTP 204). Provided:
    /// the table's [`dispatch`](crate::PathTable::dispatch) (help, match,
    /// 405, field validation, the handler, the unknown-field warning).
    /// Override it only without a table, or to answer some requests before
    /// routing (KV v2's refusals on its roots), passing the rest to the
    /// table.
    async fn handle(&self, ctx: &Context, req: &Request) -> Result<Option<Response>> {
        self.routes().dispatch(ctx, req).await
    }

    /// The existence check that turns a write into `create` or `update` for
    /// the ACL: `Some(true)` if the target exists, `Some(false)` if not, `None`
    /// when the path has no existence check (the write stays an `update`).
    /// Provided: the table's [`exists`](crate::PathTable::exists), from the
    /// paths' existence functions.
    async fn exists(&self, ctx: &Context, req: &Request) -> Result<Option<bool>> {
        self.routes().exists(ctx, req).await
    }

    /// Paths that need no token or need `sudo`. Provided: the table's
    /// [`special_paths`](crate::PathTable::special_paths), from the paths'
    /// `.unauthenticated()` and `.sudo()` flags.
    fn special_paths(&self) -> SpecialPaths {
        self.routes().special_paths()
    }

    /// The backend's declared paths, in matching order, published or not:
    /// what the `sys/` assembly routes by and the declared-fields walk
    /// sends. Provided: the table's
    /// [`declarations`](crate::PathTable::declarations); none without a
    /// table.
    fn paths(&self) -> Vec<&PathDef> {
        self.routes().declarations()
    }

    /// The paths to publish, in matching order: what
    /// `sys/internal/specs/openapi` documents and so what the bad-request
    /// corpus is generated from. Provided: the table's
    /// [`published`](crate::PathTable::published) (every declaration but
    /// those marked [`unpublished`](crate::Path::unpublished)); without a
    /// table, [`paths`](Backend::paths), so a backend that writes `paths`
    /// by hand publishes what it declares unless it writes this too.
    fn published_paths(&self) -> Vec<&PathDef> {
        let routes = self.routes();
        if routes.is_bound() {
            routes.published()
        } else {
            self.paths()
        }
    }

    /// A token was revoked: drop what this mount keeps for the token's
    /// `scope_id` (the cubbyhole wipes the token's private storage). The
    /// default keeps nothing per token.
    async fn token_revoked(&self, _ctx: &Context, _scope_id: &str) -> Result<()> {
        Ok(())
    }

    /// Called when the mount is removed, before its storage is deleted.
    async fn cleanup(&self, _ctx: &Context) -> Result<()> {
        Ok(())
    }

    /// Auth methods: a token issued from `grant` is being renewed. Return the
    /// grant to keep (the method may refresh policies or TTLs), or an error to
    /// refuse (the user or role no longer exists). The default accepts it
    /// unchanged.
    async fn renew_login(&self, _ctx: &Context, grant: &LoginGrant) -> Result<LoginGrant> {
        Ok(grant.clone())
    }

    /// Secrets engines: revoke the secret behind `lease` (drop the database
    /// user). Called by the expiration manager at expiry or on revocation;
    /// an error makes it retry later with back-off.
    async fn revoke_lease(&self, _ctx: &Context, _lease: &LeaseData) -> Result<()> {
        Ok(())
    }

    /// Runs a scheduled job of this mount (a static-role or root rotation):
    /// `job` is the job id relative to the mount (`static-roles/web`) and
    /// `kind` what the job does. An error is recorded and retried with
    /// back-off by the scheduler; it must not contain secrets.
    async fn run_scheduled(&self, _ctx: &Context, job: &str, kind: &str) -> Result<()> {
        Err(SdkError::NoScheduledJob {
            job: job.to_owned(),
            kind: kind.to_owned(),
        }
        .into())
    }

    /// Secrets engines: extend the secret behind `lease` by `increment`
    /// (already capped by the core) and return the TTL granted. The default
    /// refuses: the lease is not renewable.
    async fn renew_lease(
        &self,
        _ctx: &Context,
        _lease: &LeaseData,
        _increment: Duration,
    ) -> Result<Duration> {
        Err(SdkError::LeaseNotRenewable.into())
    }
}
