//! `static-roles/:name` (and LIST `static-roles`), `static-creds/:name`,
//! `rotate-role/:name`.

use std::time::SystemTime;

use coffer_sdk::{Call, Context, FieldDef, FieldType, PathDef};
use coffer_types::{Operation, Response, Result, Sensitive};
use serde_json::{Map, Value};

use crate::DatabaseBackend;
use crate::error::DatabaseError;
use crate::fields::{self, statements};
use crate::model::{DbConfig, Pending, StaticRole};
use crate::rotation::{self, JOB_STATIC_ROTATION, static_job};
use crate::store::{self, Kind};

const NAME: FieldDef =
    FieldDef::new("name", FieldType::String, "Name of the static role.").required();

const FIELDS: &[FieldDef] = &[
    NAME,
    FieldDef::new(
        "db_name",
        FieldType::String,
        "Name of the database connection this role uses.",
    )
    .required(),
    FieldDef::new(
        "username",
        FieldType::String,
        "Name of the existing database user whose password this role rotates. Cannot change.",
    )
    .required(),
    FieldDef::new(
        "rotation_period",
        FieldType::Duration,
        "How often to rotate the password (at least 5s). Exclusive with rotation_schedule.",
    ),
    FieldDef::new(
        "rotation_schedule",
        FieldType::String,
        "A 5-field cron expression (UTC) for rotations. Exclusive with rotation_period.",
    ),
    FieldDef::new(
        "rotation_window",
        FieldType::Duration,
        "With rotation_schedule: how long after a scheduled time a rotation may still start (at least 1h).",
    ),
    FieldDef::new(
        "rotation_statements",
        FieldType::Any,
        "Statements that set the password; {{name}} and {{password}} are filled in. Empty: the plugin's default.",
    ),
    FieldDef::new(
        "credential_type",
        FieldType::String,
        "The type of credential: only \"password\".",
    ),
];

/// `static-roles`: LIST.
pub(crate) fn list_definition() -> PathDef {
    PathDef {
        pattern: "static-roles",
        fields: &[],
        operations: &[Operation::List],
        existence_check: false,
        synopsis: "Manage the static roles that can be created with this backend.",
        description: "Lists the static roles.",
    }
}

/// `static-roles/:name`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "static-roles/:name",
        fields: FIELDS,
        operations: &[
            Operation::Create,
            Operation::Update,
            Operation::Read,
            Operation::Delete,
        ],
        existence_check: true,
        synopsis: "Manage the static roles that can be created with this backend.",
        description: "A static role ties an existing database user to this engine, which sets its password at once and then rotates it on schedule.",
    }
}

/// `static-creds/:name`.
pub(crate) fn creds_definition() -> PathDef {
    PathDef {
        pattern: "static-creds/:name",
        fields: &[NAME],
        operations: &[Operation::Read],
        existence_check: false,
        synopsis: "Request database credentials for a certain static role.",
        description: "Returns the current password of the static role's user and the time to its next rotation.",
    }
}

/// `rotate-role/:name`.
pub(crate) fn rotate_definition() -> PathDef {
    PathDef {
        pattern: "rotate-role/:name",
        fields: &[NAME],
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Request to rotate the credentials for a static user account.",
        description: "Rotates the password now and restarts the role's schedule.",
    }
}

/// LIST `static-roles`.
pub(crate) async fn list(_: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(store::list(&call.ctx.storage, Kind::StaticRole).await?)
}

/// The existence check of `static-roles/:name`.
pub(crate) async fn exists(_: &DatabaseBackend, call: &Call<'_>) -> Result<bool> {
    fields::exists(call, Kind::StaticRole).await
}

/// READ `static-roles/:name`: the role and its schedule, no password.
pub(crate) async fn read(_: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let Some(role) = load(call.ctx, name).await? else {
        return Ok(None);
    };
    Ok(Some(Response::with_data(
        describe(call.ctx, name, &role).await?,
    )))
}

/// DELETE `static-roles/:name`: the role and its rotation job (the user and
/// its current password stay in the database).
pub(crate) async fn delete(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let _lock = backend.lock.lock().await;
    call.ctx.services.jobs.unschedule(&static_job(name)).await?;
    store::delete(&call.ctx.storage, Kind::StaticRole, name).await?;
    Ok(None)
}

async fn load(ctx: &Context, name: &str) -> Result<Option<StaticRole>> {
    store::get(&ctx.storage, Kind::StaticRole, name).await
}

fn seconds_until(next: SystemTime, now: SystemTime) -> u64 {
    next.duration_since(now).map_or(0, |d| d.as_secs())
}

/// The fields Vault shows for a static role (no password).
async fn describe(ctx: &Context, name: &str, role: &StaticRole) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    m.insert("db_name".into(), role.db_name.clone().into());
    m.insert("username".into(), role.username.clone().into());
    m.insert(
        "rotation_statements".into(),
        role.rotation_statements.clone().into(),
    );
    m.insert("credential_type".into(), "password".into());
    role.rotation.to_fields(&mut m);
    m.insert(
        "last_vault_rotation".into(),
        role.last_vault_rotation
            .map_or(Value::Null, |t| coffer_sdk::time::rfc3339(t).into()),
    );
    let status = ctx.services.jobs.status(&static_job(name)).await?;
    let now = ctx.clock.now();
    m.insert(
        "ttl".into(),
        status
            .as_ref()
            .map_or(0, |s| seconds_until(s.next_run, now))
            .into(),
    );
    m.insert("rotation_pending".into(), role.pending.is_some().into());
    m.insert(
        "last_rotation_error".into(),
        status
            .and_then(|s| s.last_error)
            .map_or(Value::Null, Value::String),
    );
    Ok(m)
}

/// CREATE/UPDATE `static-roles/:name`: a new role takes over its user with
/// a first rotation now; an update changes the statements and schedule.
pub(crate) async fn write(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let ctx = call.ctx;
    let input = &call.fields;
    let _lock = backend.lock.lock().await;
    let old = load(ctx, name).await?;
    let username = input.get_string("username")?;
    let db_name = input.get_string("db_name")?;
    if let Some(t) = input.get_string("credential_type")?
        && t != "password"
    {
        return Err(DatabaseError::UnsupportedCredentialType(t).into());
    }
    let rotation = fields::rotation_from(
        input,
        old.as_ref().map(|r| &r.rotation),
        fields::MIN_ROTATION_PERIOD,
    )?;
    if rotation.period.is_none() && rotation.schedule.is_none() {
        return Err(DatabaseError::RotationRequired.into());
    }
    let schedule = rotation
        .job_schedule()
        .ok_or(DatabaseError::MissingSchedule)?;
    ctx.services.jobs.validate(&schedule)?;
    if let Some(mut role) = old {
        if username.as_ref().is_some_and(|u| *u != role.username) {
            return Err(DatabaseError::UsernameImmutable.into());
        }
        if db_name.as_ref().is_some_and(|d| *d != role.db_name) {
            return Err(DatabaseError::DbNameImmutable.into());
        }
        if let Some(s) = statements(input, "rotation_statements")? {
            role.rotation_statements = s;
        }
        role.rotation = rotation;
        store::put(&ctx.storage, Kind::StaticRole, name, &role).await?;
        ctx.services
            .jobs
            .schedule(&static_job(name), JOB_STATIC_ROTATION, &schedule)
            .await?;
        return Ok(None);
    }
    let username = username
        .filter(|u| !u.is_empty())
        .ok_or(DatabaseError::UsernameRequired)?;
    let db_name = db_name
        .filter(|d| !d.is_empty())
        .ok_or(DatabaseError::DbNameRequired)?;
    let config: DbConfig = store::get(&ctx.storage, Kind::Config, &db_name)
        .await?
        .ok_or_else(|| DatabaseError::ConfigNotFound(db_name.clone()))?;
    if !fields::glob_list_contains(&config.allowed_roles, name) {
        return Err(DatabaseError::RoleNotAllowed(name.to_owned()).into());
    }
    // The first rotation happens now, through the same pending/current
    // records as every later one; the job exists first, so a crash before
    // the rotation completes is retried at once.
    let password = ctx
        .services
        .passwords
        .generate(Some(&config.password_policy))
        .await?;
    let role = StaticRole {
        db_name,
        username,
        rotation_statements: statements(input, "rotation_statements")?.unwrap_or_default(),
        rotation,
        password: Sensitive::from(""),
        last_vault_rotation: None,
        pending: Some(Pending {
            password,
            since: ctx.clock.now(),
        }),
    };
    store::put(&ctx.storage, Kind::StaticRole, name, &role).await?;
    ctx.services
        .jobs
        .schedule(&static_job(name), JOB_STATIC_ROTATION, &schedule)
        .await?;
    if let Err(e) = rotation::rotate_static_locked(backend, ctx, name, role, true).await {
        // Nothing was created: the user's password did not change (or a
        // retry of the same pending password would be needed, which the
        // deleted role no longer asks for).
        ctx.services.jobs.unschedule(&static_job(name)).await?;
        store::delete(&ctx.storage, Kind::StaticRole, name).await?;
        return Err(e);
    }
    Ok(None)
}

/// `static-creds/:name`.
pub(crate) async fn creds(_: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    let role = load(call.ctx, name)
        .await?
        .ok_or_else(|| DatabaseError::UnknownRole(name.to_owned()))?;
    // Before the first rotation completes, the pending password is the only
    // one this engine can know.
    let password = match (&role.pending, role.password.is_empty()) {
        (Some(p), true) => p.password.clone(),
        _ => role.password.clone(),
    };
    let mut m = Map::new();
    m.insert("username".into(), role.username.clone().into());
    m.insert("password".into(), password.expose().into());
    m.insert(
        "last_vault_rotation".into(),
        role.last_vault_rotation
            .map_or(Value::Null, |t| coffer_sdk::time::rfc3339(t).into()),
    );
    role.rotation.to_fields(&mut m);
    let status = call.ctx.services.jobs.status(&static_job(name)).await?;
    let now = call.ctx.clock.now();
    m.insert(
        "ttl".into(),
        status.map_or(0, |s| seconds_until(s.next_run, now)).into(),
    );
    Ok(Some(Response::with_data(m)))
}

/// `rotate-role/:name`.
pub(crate) async fn rotate(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let name = fields::name(call)?;
    rotation::rotate_static(backend, call.ctx, name, true).await?;
    Ok(None)
}
