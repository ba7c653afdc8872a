//! Moving a mount to another path (`sys/remount`), as Vault's
//! `remountSecretsEngine` and `remountCredential` do.
//!
//! A move keeps the mount's identity: its uuid (so its storage view, which
//! is named by the uuid, and every piece of data in it stay where they
//! are), its accessor, configuration and live backend. What changes is the
//! path in the mount table and the router. In order:
//!
//! 1. the source is *tainted*: its route answers every request with Vault's
//!    404 `route entry is tainted` while still letting the expiration
//!    manager revoke through it (Vault's router lets revoke and rollback
//!    through a tainted route, nothing else);
//! 2. every lease under the source path is revoked, as Vault does ("A mount
//!    migration will revoke all leases for the secrets of a secrets backend
//!    or tokens of an auth backend"): lease ids start with the mount path,
//!    so they are not renamed; a failed revocation stops the move and
//!    untaints the source;
//! 3. under the table lock, the entry's path changes, the table is saved and
//!    the router rebuilt, with the same backend at the new path;
//! 4. the mount's scheduled jobs (ids prefixed by the mount path, like
//!    lease ids) are moved to the new path;
//! 5. the rate-limit quotas on the mount follow it (Vault's
//!    `quotas.Manager.HandleRemount`).
//!
//! The checks a request can fail synchronously (Vault's messages and order)
//! are in [`Unsealed::plan_remount`]; the move itself runs in the
//! background and reports through the `sys/remount/status` piece.

use crate::error::CoreError;
use std::sync::Arc;

use coffer_sdk::{Backend, Context, PathDef, SpecialPaths};
use coffer_types::{Error, LeaseData, LoginGrant, Request, Response, Result};

use crate::mounts::{self, Table};
use crate::router::{Route, Router};
use crate::unsealed::{Tables, Unsealed};

/// Secrets-engine paths that can be neither moved nor moved into (Vault's
/// `protectedMounts`).
const PROTECTED_MOUNTS: &[&str] = &["audit/", "auth/", "sys/", "cubbyhole/", "identity/"];

/// Auth paths that can be neither moved nor moved into (Vault's
/// `protectedAuths`).
const PROTECTED_AUTHS: &[&str] = &["auth/token"];

/// A checked move: which mount (by table, path and accessor) goes where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RemountPlan {
    /// The table of the mount.
    pub table: Table,
    /// The full routing prefix of the source (`secret/`, `auth/userpass/`).
    pub from: String,
    /// The full routing prefix of the destination.
    pub to: String,
    /// The accessor of the mount being moved: the move fails if the path
    /// is remounted by something else before it runs.
    pub accessor: String,
}

impl RemountPlan {
    /// The path within the table (without `auth/`) of the destination.
    fn target_entry_path(&self) -> &str {
        self.to
            .strip_prefix(self.table.route_prefix())
            .unwrap_or(&self.to)
    }

    /// The path within the table of the source.
    fn source_entry_path(&self) -> &str {
        self.from
            .strip_prefix(self.table.route_prefix())
            .unwrap_or(&self.from)
    }
}

/// Vault's `sanitizePath`: no leading `/`, one trailing `/`.
fn sanitize(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    if trimmed.ends_with('/') {
        trimmed.to_owned()
    } else {
        format!("{trimmed}/")
    }
}

/// The route of a tainted mount: requests fail with Vault's 404, revocations
/// (and token cleanups, and the mount's own cleanup) still reach the backend.
struct Tainted {
    inner: Arc<dyn Backend>,
    prefix: String,
}

impl Tainted {
    fn refused(&self, path: &str) -> Error {
        CoreError::RouteTainted(format!("{}{path}", self.prefix)).into()
    }
}

#[async_trait::async_trait]
impl Backend for Tainted {
    async fn handle(&self, _ctx: &Context, req: &Request) -> Result<Option<Response>> {
        Err(self.refused(&req.relative_path))
    }

    fn special_paths(&self) -> SpecialPaths {
        self.inner.special_paths()
    }

    fn paths(&self) -> Vec<&PathDef> {
        self.inner.paths()
    }

    fn published_paths(&self) -> Vec<&PathDef> {
        self.inner.published_paths()
    }

    async fn token_revoked(&self, ctx: &Context, scope_id: &str) -> Result<()> {
        self.inner.token_revoked(ctx, scope_id).await
    }

    async fn cleanup(&self, ctx: &Context) -> Result<()> {
        self.inner.cleanup(ctx).await
    }

    async fn renew_login(&self, _ctx: &Context, _grant: &LoginGrant) -> Result<LoginGrant> {
        Err(self.refused("login"))
    }

    async fn revoke_lease(&self, ctx: &Context, lease: &LeaseData) -> Result<()> {
        self.inner.revoke_lease(ctx, lease).await
    }

    async fn run_scheduled(&self, _ctx: &Context, job: &str, _kind: &str) -> Result<()> {
        Err(self.refused(job))
    }

    async fn renew_lease(
        &self,
        _ctx: &Context,
        lease: &LeaseData,
        _increment: std::time::Duration,
    ) -> Result<std::time::Duration> {
        Err(self.refused(&lease.path))
    }
}

/// A copy of `router` with the backend of the route at `prefix` replaced.
fn with_backend(router: &Router, prefix: &str, backend: Arc<dyn Backend>) -> Router {
    let mut copy = Router::default();
    for route in router.routes() {
        let replaced = route.prefix == prefix;
        copy.insert_route(Route {
            prefix: route.prefix.clone(),
            table: route.table,
            entry: route.entry.clone(),
            special: if replaced {
                backend.special_paths()
            } else {
                route.special.clone()
            },
            backend: if replaced {
                backend.clone()
            } else {
                route.backend.clone()
            },
            ctx: route.ctx.clone(),
        });
    }
    copy
}

impl Unsealed {
    /// Checks a `sys/remount` request as Vault's `handleRemount` does, in
    /// its order and with its messages (all 400): both paths given, no
    /// surrounding whitespace, a valid destination, auth mounts only to
    /// `auth/`, no protected mount on either side, a mount exactly at
    /// `from`, nothing at, above or below `to`.
    pub(crate) async fn plan_remount(&self, from: &str, to: &str) -> Result<RemountPlan> {
        if from.is_empty() || to.is_empty() {
            return Err(CoreError::RemountPathsMissing.into());
        }
        for (name, value) in [("from", from), ("to", to)] {
            if value.starts_with(' ') || value.ends_with(' ') {
                return Err(CoreError::RemountTrailingSpace(name).into());
            }
        }
        let from = sanitize(from);
        let to = sanitize(to);
        if to.chars().any(|c| c.is_control()) {
            return Err(CoreError::RemountNonPrintable.into());
        }
        let table = if from.starts_with("auth/") {
            if !to.starts_with("auth/") {
                return Err(CoreError::RemountAuthToNonAuth(to.to_string()).into());
            }
            if PROTECTED_AUTHS.iter().any(|p| from.starts_with(p)) {
                return Err(CoreError::CannotRemount(from.to_string()).into());
            }
            if PROTECTED_AUTHS.iter().any(|p| to.starts_with(p)) {
                return Err(CoreError::RemountProtectedAuthDestination(to.to_string()).into());
            }
            Table::Auth
        } else {
            for p in PROTECTED_MOUNTS {
                if from.starts_with(p) {
                    return Err(CoreError::CannotRemount(from.to_string()).into());
                }
                if to.starts_with(p) {
                    return Err(CoreError::RemountProtectedDestination(to.to_string()).into());
                }
            }
            Table::Secrets
        };
        let source = self
            .router()
            .routes()
            .find(|r| r.prefix == from && r.table == table)
            .map(|r| r.entry.accessor.clone())
            .ok_or_else(|| CoreError::NoMatchingMount(from.to_string()))?;
        if let Some(existing) = self.router().conflict(&to) {
            return Err(CoreError::PathAlreadyInUse(existing.to_string()).into());
        }
        let plan = RemountPlan {
            table,
            from,
            to,
            accessor: source,
        };
        // The destination must be a path a mount can have (`a//b` cannot).
        mounts::normalize_mount_path(plan.target_entry_path())
            .map_err(CoreError::InvalidDestination)?;
        Ok(plan)
    }

    /// Installs `router` as the current snapshot. Callers hold the table
    /// lock, so no rebuild from the tables races with them.
    fn install_router(&self, _tables: &Tables, router: Router) {
        crate::router::install(&self.router, router);
    }

    /// Runs a planned move (see the module documentation). On failure
    /// before the table changed, the source is routable again as it was.
    pub(crate) async fn remount(&self, plan: &RemountPlan) -> Result<()> {
        let inner = {
            let tables = self.tables.lock().await;
            let router = self.router();
            let route = router
                .routes()
                .find(|r| r.prefix == plan.from && r.entry.accessor == plan.accessor)
                .ok_or_else(|| CoreError::NoMatchingMount(plan.from.clone()))?;
            let inner = route.backend.clone();
            let tainted = Arc::new(Tainted {
                inner: inner.clone(),
                prefix: plan.from.clone(),
            });
            self.install_router(&tables, with_backend(&router, &plan.from, tainted));
            inner
        };
        let moved = match self.expiration.revoke_prefix(&plan.from, false).await {
            Ok(()) => self.move_entry(plan).await,
            Err(e) => Err(e.into()),
        };
        let tables = self.tables.lock().await;
        let at = if moved.is_ok() { &plan.to } else { &plan.from };
        self.install_router(&tables, with_backend(&self.router(), at, inner));
        drop(tables);
        moved?;
        self.move_jobs(plan).await?;
        self.quotas.handle_remount(&plan.from, &plan.to).await
    }

    /// Changes the entry's path in its table, saves the table and rebuilds
    /// the router (where the tainted backend follows the entry, found by
    /// its accessor, until [`Unsealed::remount`] puts the real one back).
    async fn move_entry(&self, plan: &RemountPlan) -> Result<()> {
        let mut tables = self.tables.lock().await;
        if let Some(existing) = self.router().conflict(&plan.to) {
            return Err(CoreError::PathAlreadyInUse(existing.to_string()).into());
        }
        let list = tables.get_mut(plan.table);
        let index = list
            .iter()
            .position(|e| e.path == plan.source_entry_path() && e.accessor == plan.accessor)
            .ok_or_else(|| CoreError::NoMatchingMount(plan.from.clone()))?;
        list[index].path = plan.target_entry_path().to_owned();
        if let Err(e) = mounts::save_table(self.storage.as_ref(), plan.table, list).await {
            list[index].path = plan.source_entry_path().to_owned();
            return Err(e);
        }
        self.rebuild_router(&tables)
    }

    /// Moves the mount's scheduled jobs (`from/...` to `to/...`), keeping
    /// kind, schedule and next run.
    async fn move_jobs(&self, plan: &RemountPlan) -> Result<()> {
        for job in self.scheduler.list().await? {
            let Some(rest) = job.id.strip_prefix(plan.from.as_str()) else {
                continue;
            };
            let id = format!("{}{rest}", plan.to);
            self.scheduler
                .upsert(coffer_scheduler::JobSpec {
                    id: id.clone(),
                    kind: job.kind.clone(),
                    schedule: job.schedule.clone(),
                })
                .await?;
            self.scheduler.set_next_run(&id, job.next_run).await?;
            self.scheduler.remove(&job.id).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use coffer_sdk::{MountConfig, Services, SystemClock};
    use coffer_storage::{MemoryStorage, Prefix, View};
    use coffer_types::Operation;

    use super::*;
    use crate::mounts::MountEntry;

    /// An engine that answers requests and records revocations.
    #[derive(Default)]
    struct Recording {
        revoked: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl Backend for Recording {
        async fn handle(&self, _ctx: &Context, _req: &Request) -> Result<Option<Response>> {
            Ok(Some(Response::default()))
        }
        async fn revoke_lease(&self, _ctx: &Context, lease: &LeaseData) -> Result<()> {
            self.revoked.lock().unwrap().push(lease.lease_id.clone());
            Ok(())
        }
    }

    fn route(prefix: &str, backend: Arc<dyn Backend>) -> Route {
        Route {
            prefix: prefix.to_owned(),
            table: Table::Secrets,
            entry: MountEntry::new(prefix, "kv", "").unwrap(),
            special: backend.special_paths(),
            backend,
            ctx: Context {
                storage: View::new(Arc::new(MemoryStorage::new()), Prefix::root()),
                config: MountConfig::default(),
                clock: Arc::new(SystemClock),
                services: Services::default(),
            },
        }
    }

    #[tokio::test]
    async fn a_tainted_route_refuses_requests_but_revokes() {
        let engine = Arc::new(Recording::default());
        let other = Arc::new(Recording::default());
        let mut router = Router::default();
        router.insert_route(route("db/", engine.clone()));
        router.insert_route(route("kv/", other.clone()));
        let tainted = with_backend(
            &router,
            "db/",
            Arc::new(Tainted {
                inner: engine.clone(),
                prefix: "db/".into(),
            }),
        );
        assert_eq!(tainted.len(), 2);
        let db = tainted.lookup("db/creds/app").unwrap();
        let backend = &db.backend;
        let refused = backend
            .handle(&db.ctx, &Request::new(Operation::Read, "creds/app"))
            .await
            .unwrap_err();
        assert_eq!(refused.status(), 404);
        assert_eq!(
            refused.to_string(),
            "no handler for route \"db/creds/app\". route entry is tainted."
        );
        let lease = LeaseData {
            lease_id: "db/creds/app/abc".into(),
            path: "creds/app".into(),
            internal_data: serde_json::Map::new(),
            issue_time: std::time::SystemTime::now(),
            ttl: std::time::Duration::from_secs(60),
        };
        backend.revoke_lease(&db.ctx, &lease).await.unwrap();
        assert_eq!(*engine.revoked.lock().unwrap(), vec!["db/creds/app/abc"]);
        assert!(
            backend
                .renew_lease(&db.ctx, &lease, std::time::Duration::from_secs(1))
                .await
                .is_err()
        );
        // The other mount is untouched; untainting gives the engine back.
        let kv = tainted.lookup("kv/x").unwrap();
        let kv_backend = &kv.backend;
        assert!(
            kv_backend
                .handle(&kv.ctx, &Request::new(Operation::Read, "x"))
                .await
                .is_ok()
        );
        let restored = with_backend(&tainted, "db/", engine.clone());
        let db = restored.lookup("db/creds/app").unwrap();
        assert!(
            db.backend
                .handle(&db.ctx, &Request::new(Operation::Read, "creds/app"))
                .await
                .is_ok()
        );
    }

    #[test]
    fn paths_are_sanitized_as_vault_does() {
        assert_eq!(sanitize("secret"), "secret/");
        assert_eq!(sanitize("/secret/"), "secret/");
        assert_eq!(sanitize("auth/userpass"), "auth/userpass/");
    }

    #[test]
    fn plans_know_their_table_paths() {
        let plan = RemountPlan {
            table: Table::Auth,
            from: "auth/userpass/".into(),
            to: "auth/people/".into(),
            accessor: "auth_userpass_x".into(),
        };
        assert_eq!(plan.source_entry_path(), "userpass/");
        assert_eq!(plan.target_entry_path(), "people/");
    }
}
