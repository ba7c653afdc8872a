//! The one explicit catalog of builtin secrets engines and auth methods.
//!
//! The core mounts only what the [`Catalog`] it is given can build, so it
//! depends on no engine; this crate is where the engines and auth methods
//! the `coffer` binary ships are named, each with its factory. Adding an
//! engine is one entry here and one dependency in this crate's manifest.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::Arc;

use coffer_database_plugin::PluginFactory;
use coffer_sdk::Backend;
use coffer_sdk::catalog::{AliasMount, Catalog, Entry, Kind};
use coffer_types::Result;
use serde_json::{Map, Value};

/// Every builtin type: the secrets engines `kv` (with Vault's aliases
/// `kv-v2` and `generic`), `database` and the `cubbyhole` singleton; the auth
/// methods `userpass` and `approle`; and the singletons the core wires
/// itself (`system`, `identity`, `token`), listed without a factory so that
/// enabling them is refused as Vault refuses it.
pub fn catalog() -> Catalog {
    Catalog::new()
        .with(Entry::mountable(
            Kind::Secret,
            "kv",
            coffer_engine_kv::kv_backend,
        ))
        .with(Entry::alias(
            Kind::Secret,
            "kv-v2",
            "kv",
            &[("version", "2")],
            AliasMount::AsTarget,
        ))
        // Vault's old name of KV version 1: the mount keeps the type
        // `generic` and takes no `version` option.
        .with(Entry::alias(
            Kind::Secret,
            "generic",
            "kv",
            &[("version", "1")],
            AliasMount::KeepsName,
        ))
        .with(Entry::mountable(Kind::Secret, "database", database))
        .with(Entry::singleton(Kind::Secret, "cubbyhole", Some(cubbyhole)))
        .with(Entry::singleton(Kind::Secret, "identity", None))
        .with(Entry::singleton(Kind::Secret, "system", None))
        .with(Entry::singleton(Kind::Auth, "token", None))
        .with(Entry::mountable(Kind::Auth, "userpass", userpass))
        .with(Entry::mountable(Kind::Auth, "approle", approle))
        .with_database_plugins(database_plugins().iter().map(|p| p.name()))
}

/// Every builtin database plugin.
fn database_plugins() -> Vec<Arc<dyn PluginFactory>> {
    let mut plugins: Vec<Arc<dyn PluginFactory>> = vec![
        Arc::new(coffer_database_postgres::PostgresFactory),
        Arc::new(coffer_database_redis::RedisFactory),
    ];
    plugins.extend(coffer_database_mysql::factories());
    plugins
}

/// The database engine with every builtin database plugin.
fn database(_options: &Map<String, Value>) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(coffer_engine_database::DatabaseBackend::new(
        database_plugins(),
    )))
}

fn cubbyhole(_options: &Map<String, Value>) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(coffer_engine_kv::Cubbyhole::new()))
}

fn userpass(_options: &Map<String, Value>) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(coffer_auth_userpass::Userpass::new()))
}

fn approle(_options: &Map<String, Value>) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(coffer_auth_approle::AppRole::new()))
}

#[cfg(test)]
mod tests {
    use coffer_sdk::catalog::Availability;
    use serde_json::json;

    use super::*;

    fn opts(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// The path patterns a built backend declares.
    fn patterns(kind: Kind, mount_type: &str, options: Value) -> Vec<&'static str> {
        let backend = catalog()
            .build(kind, mount_type, &opts(options))
            .unwrap()
            .unwrap_or_else(|| panic!("{mount_type} has no factory"));
        backend.paths().iter().map(|p| p.pattern).collect()
    }

    #[test]
    fn lists_every_builtin_type() {
        let c = catalog();
        let listed: Vec<(Kind, &str, Availability, bool)> = c
            .entries()
            .map(|e| (e.kind(), e.name(), e.availability(), e.has_factory()))
            .collect();
        use Availability::{Mountable, Singleton};
        use Kind::{Auth, Secret};
        assert_eq!(
            listed,
            [
                (Secret, "cubbyhole", Singleton, true),
                (Secret, "database", Mountable, true),
                (Secret, "generic", Mountable, false),
                (Secret, "identity", Singleton, false),
                (Secret, "kv", Mountable, true),
                (Secret, "kv-v2", Mountable, false),
                (Secret, "system", Singleton, false),
                (Auth, "approle", Mountable, true),
                (Auth, "token", Singleton, false),
                (Auth, "userpass", Mountable, true),
            ]
        );
    }

    #[test]
    fn kv_and_its_aliases_build_the_right_version() {
        let c = catalog();
        assert!(patterns(Kind::Secret, "kv", json!({})).contains(&"*path"));
        assert!(!patterns(Kind::Secret, "kv", json!({})).contains(&"data/*path"));
        assert!(patterns(Kind::Secret, "kv", json!({"version": "2"})).contains(&"data/*path"));
        // kv-v2 is recorded as kv with version 2.
        let mut options = Map::new();
        assert_eq!(
            c.check_enable(Kind::Secret, "kv-v2", &mut options).unwrap(),
            "kv"
        );
        assert!(patterns(Kind::Secret, "kv", Value::Object(options)).contains(&"data/*path"));
        // generic keeps its name, is KV version 1 and refuses a version.
        assert_eq!(
            c.check_enable(Kind::Secret, "generic", &mut Map::new())
                .unwrap(),
            "generic"
        );
        assert!(!patterns(Kind::Secret, "generic", json!({})).contains(&"data/*path"));
        let err = c
            .check_enable(Kind::Secret, "generic", &mut opts(json!({"version": "2"})))
            .unwrap_err();
        assert_eq!(err.status(), 400);
        // KV's own refusal of a bad version comes through the catalog.
        let err = c
            .build(Kind::Secret, "kv", &opts(json!({"version": "3"})))
            .err()
            .unwrap();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn every_factory_builds_its_engine() {
        assert!(patterns(Kind::Secret, "cubbyhole", json!({})).contains(&"*path"));
        let database = patterns(Kind::Secret, "database", json!({}));
        assert!(database.contains(&"config/:name") && database.contains(&"creds/:name"));
        assert!(patterns(Kind::Auth, "userpass", json!({})).contains(&"login/:username"));
        assert!(patterns(Kind::Auth, "approle", json!({})).contains(&"role/:role_name/secret-id"));
    }

    #[test]
    fn the_database_plugins_are_named_for_the_plugin_catalog() {
        assert_eq!(
            catalog().database_plugins(),
            [
                "mysql-aurora-database-plugin",
                "mysql-database-plugin",
                "mysql-legacy-database-plugin",
                "mysql-rds-database-plugin",
                "postgresql-database-plugin",
                "redis-database-plugin",
            ]
        );
    }

    #[test]
    fn the_cores_singletons_are_reserved_not_built() {
        let c = catalog();
        for (kind, name) in [
            (Kind::Secret, "system"),
            (Kind::Secret, "identity"),
            (Kind::Auth, "token"),
        ] {
            assert!(c.build(kind, name, &Map::new()).unwrap().is_none());
            assert!(c.check_enable(kind, name, &mut Map::new()).is_err());
        }
        assert!(
            c.check_enable(Kind::Secret, "cubbyhole", &mut Map::new())
                .is_err()
        );
    }
}
