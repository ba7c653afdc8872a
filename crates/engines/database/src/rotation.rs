//! Password rotation of static roles and of a connection's root user.
//!
//! A rotation first records the new password as pending (in the barrier),
//! then changes the database, then makes the pending password current. Any
//! failure or crash in between leaves the pending password on record: the
//! next attempt (the scheduler retries with back-off; on-demand rotations
//! make their job due at once) re-applies it, so no user ever has a
//! password nobody knows, and the old password keeps working until the
//! database has changed.

use coffer_sdk::{Context, JobSchedule};
use coffer_types::{Error, Result, Sensitive};

use crate::DatabaseBackend;
use crate::error::DatabaseError;
use crate::model::{DbConfig, Pending, StaticRole};
use crate::store::{self, Kind};

/// The scheduler job kind that rotates a static role (`static-roles/<name>`).
pub const JOB_STATIC_ROTATION: &str = "static-role-rotation";
/// The scheduler job kind that rotates a connection's root user (`config/<name>`).
pub const JOB_ROOT_ROTATION: &str = "root-rotation";

/// The job id of a static role.
pub(crate) fn static_job(name: &str) -> String {
    format!("static-roles/{name}")
}

/// The job id of a connection's root rotation.
pub(crate) fn root_job(name: &str) -> String {
    format!("config/{name}")
}

/// A crash injected by tests at a point of a rotation.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Stop after the database changed, before the record is made current.
    AfterApply,
}

impl DatabaseBackend {
    #[cfg(test)]
    fn crash_point(&self, at: Fault) -> Result<()> {
        let armed = self.fault.lock().map(|f| *f == Some(at)).unwrap_or(false);
        if armed {
            return Err(DatabaseError::InjectedCrash(format!("{at:?}")).into());
        }
        Ok(())
    }

    #[cfg(not(test))]
    fn crash_point(&self, _at: ()) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
const AFTER_APPLY: Fault = Fault::AfterApply;
#[cfg(not(test))]
const AFTER_APPLY: () = ();

/// Registers, changes or removes the root rotation job of a connection.
pub(crate) async fn sync_root_job(
    ctx: &Context,
    name: &str,
    schedule: Option<&JobSchedule>,
) -> Result<()> {
    match schedule {
        Some(s) => {
            ctx.services
                .jobs
                .schedule(&root_job(name), JOB_ROOT_ROTATION, s)
                .await?;
        }
        None => ctx.services.jobs.unschedule(&root_job(name)).await?,
    }
    Ok(())
}

/// Counts a failed rotation (`coffer_database_rotation_failures_total`,
/// by mount accessor and kind: `static-role` or `root`).
fn record_failure(ctx: &Context, kind: &'static str) {
    metrics::counter!(
        "coffer_database_rotation_failures_total",
        "mount" => ctx.config.accessor.clone(),
        "kind" => kind
    )
    .increment(1);
}

/// The password a rotation applies: the pending one left by an earlier
/// attempt, or a fresh one from `policy`, recorded in `pending` (the caller
/// stores the record before touching the database when this says `true`).
async fn pending_password(
    ctx: &Context,
    pending: &mut Option<Pending>,
    policy: &str,
) -> Result<(Sensitive, bool)> {
    if let Some(p) = pending {
        return Ok((p.password.clone(), false));
    }
    let password = ctx.services.passwords.generate(Some(policy)).await?;
    *pending = Some(Pending {
        password: password.clone(),
        since: ctx.clock.now(),
    });
    Ok((password, true))
}

async fn config_for(ctx: &Context, db_name: &str) -> Result<DbConfig> {
    store::get(&ctx.storage, Kind::Config, db_name)
        .await?
        .ok_or_else(|| DatabaseError::ConfigNotFound(db_name.to_owned()).into())
}

/// Rotates the static role `name` (the caller holds the engine lock).
/// `on_demand`: asked for by a client, not the scheduler, so the job is
/// made due at once on failure and restarted on success.
pub(crate) async fn rotate_static_locked(
    backend: &DatabaseBackend,
    ctx: &Context,
    name: &str,
    mut role: StaticRole,
    on_demand: bool,
) -> Result<StaticRole> {
    let config = config_for(ctx, &role.db_name).await?;
    let (new_password, recorded) =
        pending_password(ctx, &mut role.pending, &config.password_policy).await?;
    if recorded {
        store::put(&ctx.storage, Kind::StaticRole, name, &role).await?;
    }
    let scheduled = role.rotation.job_schedule().is_some();
    if on_demand && scheduled {
        // Due at once until this rotation completes: a crash from here on
        // is retried as soon as the server is back.
        ctx.services.jobs.due_now(&static_job(name)).await?;
    }
    let applied = async {
        let plugin = backend.connection(&role.db_name, &config).await?;
        plugin
            .set_password(&role.username, &new_password, &role.rotation_statements)
            .await?;
        Ok::<(), Error>(())
    }
    .await;
    if let Err(e) = applied {
        tracing::warn!(role = name, error = %e, "static role rotation failed; the old password stays current and the rotation will be retried");
        record_failure(ctx, "static-role");
        return Err(e.context("failed to rotate the static role's password"));
    }
    backend.crash_point(AFTER_APPLY)?;
    role.password = new_password;
    role.pending = None;
    role.last_vault_rotation = Some(ctx.clock.now());
    store::put(&ctx.storage, Kind::StaticRole, name, &role).await?;
    if on_demand && scheduled {
        ctx.services.jobs.restart(&static_job(name)).await?;
    }
    tracing::info!(role = name, db = %role.db_name, "static role password rotated");
    Ok(role)
}

/// Rotates the static role `name`.
pub(crate) async fn rotate_static(
    backend: &DatabaseBackend,
    ctx: &Context,
    name: &str,
    on_demand: bool,
) -> Result<()> {
    let _lock = backend.lock.lock().await;
    let role: StaticRole = store::get(&ctx.storage, Kind::StaticRole, name)
        .await?
        .ok_or_else(|| DatabaseError::StaticRoleNotFound(name.to_owned()))?;
    rotate_static_locked(backend, ctx, name, role, on_demand).await?;
    Ok(())
}

/// Makes the pending root password current.
async fn commit_root(
    backend: &DatabaseBackend,
    ctx: &Context,
    name: &str,
    mut config: DbConfig,
    password: Sensitive,
) -> Result<()> {
    config.password = password;
    config.pending = None;
    config.last_root_rotation = Some(ctx.clock.now());
    config.generation += 1;
    store::put(&ctx.storage, Kind::Config, name, &config).await?;
    backend.drop_connection(name).await;
    tracing::info!(db = name, "root credentials rotated");
    Ok(())
}

/// Rotates the root user of the connection `name`.
pub(crate) async fn rotate_root(
    backend: &DatabaseBackend,
    ctx: &Context,
    name: &str,
    on_demand: bool,
) -> Result<()> {
    let _lock = backend.lock.lock().await;
    let mut config = config_for(ctx, name).await?;
    if config.username.is_empty() {
        return Err(DatabaseError::RootNoUsername.into());
    }
    if !config.connection_url.is_empty() && !config.connection_url.contains("{{password}}") {
        return Err(DatabaseError::RootNoPlaceholder.into());
    }
    let scheduled = config.rotation.job_schedule().is_some() && !config.disable_automated_rotation;
    // A rotation left pending by a crash or a failure: find out whether
    // the database took it.
    if let Some(pending) = config.pending.clone() {
        match backend.connect_verified(&config, &config.password).await {
            Ok(plugin) => plugin.close().await,
            Err(current) => match backend.connect_verified(&config, &pending.password).await {
                Ok(plugin) => {
                    plugin.close().await;
                    commit_root(backend, ctx, name, config, pending.password).await?;
                    if on_demand && scheduled {
                        ctx.services.jobs.restart(&root_job(name)).await?;
                    }
                    return Ok(());
                }
                Err(_) => return Err(current.context("failed to rotate root credentials")),
            },
        }
    }
    let policy = config.password_policy.clone();
    let (new_password, recorded) = pending_password(ctx, &mut config.pending, &policy).await?;
    if recorded {
        store::put(&ctx.storage, Kind::Config, name, &config).await?;
    }
    if on_demand && scheduled {
        ctx.services.jobs.due_now(&root_job(name)).await?;
    }
    let applied = async {
        let plugin = backend.connect_verified(&config, &config.password).await?;
        let result = plugin
            .set_password(
                &config.username,
                &new_password,
                &config.root_rotation_statements,
            )
            .await;
        plugin.close().await;
        Ok::<(), Error>(result?)
    }
    .await;
    if let Err(e) = applied {
        tracing::warn!(db = name, error = %e, "root rotation failed; the old password stays current and the rotation will be retried");
        record_failure(ctx, "root");
        return Err(e.context("failed to rotate root credentials"));
    }
    backend.crash_point(AFTER_APPLY)?;
    commit_root(backend, ctx, name, config, new_password).await?;
    if on_demand && scheduled {
        ctx.services.jobs.restart(&root_job(name)).await?;
    }
    Ok(())
}

/// Runs a job of this mount for the scheduler.
pub(crate) async fn run_scheduled(
    backend: &DatabaseBackend,
    ctx: &Context,
    job: &str,
    kind: &str,
) -> Result<()> {
    match kind {
        JOB_STATIC_ROTATION => {
            let name = job
                .strip_prefix("static-roles/")
                .ok_or_else(|| DatabaseError::NotStaticJob(job.to_owned()))?;
            let exists: Option<StaticRole> =
                store::get(&ctx.storage, Kind::StaticRole, name).await?;
            if exists.is_none() {
                // The role is gone; so is its job.
                return ctx.services.jobs.unschedule(job).await;
            }
            rotate_static(backend, ctx, name, false).await
        }
        JOB_ROOT_ROTATION => {
            let name = job
                .strip_prefix("config/")
                .ok_or_else(|| DatabaseError::NotRootJob(job.to_owned()))?;
            let exists: Option<DbConfig> = store::get(&ctx.storage, Kind::Config, name).await?;
            if exists.is_none() {
                return ctx.services.jobs.unschedule(job).await;
            }
            rotate_root(backend, ctx, name, false).await
        }
        other => Err(DatabaseError::UnknownJobKind(other.to_owned()).into()),
    }
}
