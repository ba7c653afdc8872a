//! `creds/:name`: a new database user under a lease; the lease's renewal
//! and revocation.

use coffer_types::duration::time_after;
use std::time::Duration;

use coffer_database_plugin::NewUser;
use coffer_sdk::{Call, Context, FieldDef, FieldType, PathDef};
use coffer_types::{LeaseData, LeaseInfo, Operation, Response, Result};
use serde_json::{Map, Value};

use crate::DatabaseBackend;
use crate::error::DatabaseError;
use crate::fields::{self, glob_list_contains};
use crate::model::{DbConfig, Role};
use crate::store::{self, Kind};

const ROLE_NAME: FieldDef =
    FieldDef::new("name", FieldType::String, "Name of the role.").required();

/// `creds/:name`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "creds/:name",
        fields: &[ROLE_NAME],
        operations: &[Operation::Read],
        existence_check: false,
        synopsis: "Request database credentials for a certain role.",
        description: "Creates a database user with a fresh password under a lease; revoking the lease drops the user.",
    }
}

/// The role and its connection, checking that the connection allows the role.
pub(crate) async fn role_and_config(ctx: &Context, role_name: &str) -> Result<(Role, DbConfig)> {
    let role: Role = store::get(&ctx.storage, Kind::Role, role_name)
        .await?
        .ok_or_else(|| DatabaseError::UnknownRole(role_name.to_owned()))?;
    let config: DbConfig = store::get(&ctx.storage, Kind::Config, &role.db_name)
        .await?
        .ok_or_else(|| DatabaseError::UnknownConnection(role.db_name.clone()))?;
    if !glob_list_contains(&config.allowed_roles, role_name) {
        return Err(DatabaseError::RoleNotAllowed(role_name.to_owned()).into());
    }
    Ok((role, config))
}

/// The lease TTL and maximum for `role` on this mount.
fn ttls(ctx: &Context, role: &Role) -> (Duration, Duration) {
    let mount_max = ctx.config.max_lease_ttl;
    let max = match role.max_ttl {
        0 => mount_max,
        s => Duration::from_secs(s).min(mount_max),
    };
    let ttl = match role.default_ttl {
        0 => ctx.config.default_lease_ttl,
        s => Duration::from_secs(s),
    };
    (ttl.min(max), max)
}

/// `creds/:name`: creates the user and returns it under a lease.
pub(crate) async fn issue(backend: &DatabaseBackend, call: &Call<'_>) -> Result<Option<Response>> {
    let role_name = fields::name(call)?;
    let ctx = call.ctx;
    let (role, config) = role_and_config(ctx, role_name).await?;
    let plugin = backend.connection(&role.db_name, &config).await?;
    let template = if config.username_template.is_empty() {
        backend
            .factory(&config.plugin_name)?
            .default_username_template()
    } else {
        config.username_template.as_str()
    };
    let now = ctx.clock.now();
    let display_name = call.req.display_name().unwrap_or("token");
    let username = crate::username::generate(template, display_name, role_name, now)?;
    let password = ctx
        .services
        .passwords
        .generate(Some(&config.password_policy))
        .await?;
    let (ttl, max_ttl) = ttls(ctx, &role);
    plugin
        .create_user(&NewUser {
            username: &username,
            password: &password,
            expiration: time_after(now, ttl),
            creation_statements: &role.creation_statements,
            rollback_statements: &role.rollback_statements,
        })
        .await?;
    tracing::info!(role = role_name, db = %role.db_name, user = %username, "database user created");
    let mut data = Map::new();
    data.insert("username".into(), username.clone().into());
    data.insert("password".into(), password.expose().into());
    let mut internal = Map::new();
    internal.insert("username".into(), username.into());
    internal.insert("role".into(), role_name.into());
    internal.insert("db_name".into(), role.db_name.clone().into());
    let mut response = Response::with_data(data);
    response.secret = Some(LeaseInfo {
        lease_id: String::new(),
        ttl,
        renewable: true,
        max_ttl,
        internal_data: Some(internal),
    });
    Ok(Some(response))
}

fn internal_str<'a>(lease: &'a LeaseData, key: &str) -> Result<&'a str> {
    lease
        .internal_data
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            DatabaseError::LeaseField {
                lease_id: lease.lease_id.to_string(),
                key: key.to_owned(),
            }
            .into()
        })
}

/// Drops the user behind a lease, with the role's revocation statements
/// (the plugin's defaults when the role is gone).
pub(crate) async fn revoke(
    backend: &DatabaseBackend,
    ctx: &Context,
    lease: &LeaseData,
) -> Result<()> {
    let username = internal_str(lease, "username")?;
    let role_name = internal_str(lease, "role")?;
    let role: Option<Role> = store::get(&ctx.storage, Kind::Role, role_name).await?;
    let db_name = match lease.internal_data.get("db_name").and_then(Value::as_str) {
        Some(db) if !db.is_empty() => db.to_owned(),
        _ => role
            .as_ref()
            .map(|r| r.db_name.clone())
            .ok_or_else(|| DatabaseError::RoleNotFound(role_name.to_owned()))?,
    };
    let config: DbConfig = store::get(&ctx.storage, Kind::Config, &db_name)
        .await?
        .ok_or_else(|| DatabaseError::UnknownConnection(db_name.clone()))?;
    let statements = role.map(|r| r.revocation_statements).unwrap_or_default();
    let plugin = backend.connection(&db_name, &config).await?;
    plugin.revoke_user(username, &statements).await?;
    tracing::info!(role = role_name, db = %db_name, user = %username, "database user revoked");
    Ok(())
}

/// Extends the user behind a lease by `increment` (already capped by the
/// core) and grants that TTL.
pub(crate) async fn renew(
    backend: &DatabaseBackend,
    ctx: &Context,
    lease: &LeaseData,
    increment: Duration,
) -> Result<Duration> {
    let username = internal_str(lease, "username")?;
    let role_name = internal_str(lease, "role")?;
    let role: Role = store::get(&ctx.storage, Kind::Role, role_name)
        .await?
        .ok_or_else(|| DatabaseError::RoleNotFound(role_name.to_owned()))?;
    let config: DbConfig = store::get(&ctx.storage, Kind::Config, &role.db_name)
        .await?
        .ok_or_else(|| DatabaseError::UnknownConnection(role.db_name.clone()))?;
    let increment = if increment.is_zero() {
        ttls(ctx, &role).0
    } else {
        increment
    };
    let plugin = backend.connection(&role.db_name, &config).await?;
    plugin
        .renew_user(
            username,
            time_after(ctx.clock.now(), increment),
            &role.renew_statements,
        )
        .await?;
    Ok(increment)
}
