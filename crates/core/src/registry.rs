//! The one explicit table of builtin secrets engines and auth methods.

use std::sync::Arc;

use coffer_sdk::Backend;
use coffer_types::{Error, Result};
use serde_json::{Map, Value};

/// How a mount type may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Availability {
    /// Operators can enable it at any path.
    Mountable,
    /// Present once, created by the core; cannot be enabled again.
    Singleton,
}

/// Builtin secrets engine types.
const SECRET_TYPES: &[(&str, Availability)] = &[
    ("kv", Availability::Mountable),
    ("kv-v2", Availability::Mountable),
    ("database", Availability::Mountable),
    ("cubbyhole", Availability::Singleton),
    ("identity", Availability::Singleton),
    ("system", Availability::Singleton),
];

/// Builtin auth method types.
const AUTH_TYPES: &[(&str, Availability)] = &[
    ("token", Availability::Singleton),
    ("userpass", Availability::Mountable),
    ("approle", Availability::Mountable),
];

fn lookup(types: &[(&str, Availability)], name: &str) -> Result<Availability> {
    types
        .iter()
        .find(|(t, _)| *t == name)
        .map(|(_, a)| *a)
        .ok_or_else(|| Error::invalid(format!("plugin not found in the catalog: {name}")))
}

/// Checks that an operator may enable a secrets engine of `mount_type`, and
/// normalises aliases (`kv-v2` is `kv` with `version=2`).
pub(crate) fn check_enable_secret(
    mount_type: &str,
    options: &mut Map<String, Value>,
) -> Result<String> {
    if lookup(SECRET_TYPES, mount_type)? == Availability::Singleton {
        return Err(Error::invalid(format!(
            "mount type of {mount_type:?} is not mountable"
        )));
    }
    if mount_type == "kv-v2" {
        options.insert("version".into(), Value::String("2".into()));
        return Ok("kv".to_owned());
    }
    Ok(mount_type.to_owned())
}

/// Checks that an operator may enable an auth method of `mount_type`.
pub(crate) fn check_enable_auth(mount_type: &str) -> Result<()> {
    if lookup(AUTH_TYPES, mount_type)? == Availability::Singleton {
        return Err(Error::invalid(format!(
            "{mount_type} credential backend cannot be instantiated"
        )));
    }
    Ok(())
}

/// Builds the backend for a secrets mount (`system` and `token` are wired by
/// the core itself).
pub(crate) fn secret_backend(
    mount_type: &str,
    options: &Map<String, Value>,
) -> Result<Arc<dyn Backend>> {
    match mount_type {
        "kv" => coffer_engine_kv::kv_backend(options),
        "cubbyhole" => Ok(Arc::new(coffer_engine_kv::Cubbyhole::default())),
        "database" => {
            let mut plugins: Vec<Arc<dyn coffer_database_plugin::PluginFactory>> = vec![
                Arc::new(coffer_database_postgres::PostgresFactory),
                Arc::new(coffer_database_redis::RedisFactory),
            ];
            plugins.extend(coffer_database_mysql::factories());
            Ok(Arc::new(coffer_engine_database::DatabaseBackend::new(
                plugins,
            )))
        }
        other => Err(Error::internal(format!(
            "no builtin backend for mount type {other:?}"
        ))),
    }
}

/// Builds the backend for an auth mount (`token` is wired by the core itself).
pub(crate) fn auth_backend(mount_type: &str) -> Result<Arc<dyn Backend>> {
    match mount_type {
        "userpass" => Ok(Arc::new(coffer_auth_userpass::Userpass::new())),
        "approle" => Ok(Arc::new(coffer_auth_approle::AppRole::new())),
        other => Err(Error::internal(format!("no builtin auth method {other:?}"))),
    }
}
