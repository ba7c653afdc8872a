//! The path table: the paths, operations and special paths Vault's database
//! engine has, every connection field Vault documents for the PostgreSQL,
//! MySQL and Redis plugins declared (secrets marked), and the warnings the
//! dispatch adds for fields Coffer ignores.

use coffer_sdk::{Backend, PathDef};
use coffer_types::Operation::{self, *};
use serde_json::json;

use super::harness::{Harness, backend, pg_config_url};

fn decl<'a>(paths: &[&'a PathDef], pattern: &str) -> &'a PathDef {
    paths
        .iter()
        .find(|d| d.pattern == pattern)
        .unwrap_or_else(|| panic!("{pattern} is not declared"))
}

#[test]
fn declarations_and_special_paths_are_vaults() {
    let b = backend();
    let got: Vec<(&str, Vec<Operation>, bool)> = b
        .paths()
        .iter()
        .map(|d| (d.pattern, d.operations.to_vec(), d.existence_check))
        .collect();
    let crud = vec![Create, Update, Read, Delete];
    let want: Vec<(&str, Vec<Operation>, bool)> = vec![
        ("config", vec![List], false),
        ("config/:name", crud.clone(), true),
        ("reset/:name", vec![Update], false),
        ("rotate-root/:name", vec![Update], false),
        ("roles", vec![List], false),
        ("roles/:name", crud.clone(), true),
        ("creds/:name", vec![Read], false),
        ("static-roles", vec![List], false),
        ("static-roles/:name", crud, true),
        ("static-creds/:name", vec![Read], false),
        ("rotate-role/:name", vec![Update], false),
    ];
    assert_eq!(got, want);
    // Vault's database backend declares no unauthenticated and no root
    // paths: rotate-root and rotate-role need only `update`.
    let special = b.special_paths();
    assert!(special.unauthenticated.is_empty(), "{special:?}");
    assert!(special.root.is_empty(), "{special:?}");
}

#[test]
fn config_declares_every_documented_plugin_field() {
    let b = backend();
    let paths = b.paths();
    let config = decl(&paths, "config/:name");
    let declared: Vec<&str> = config.fields.iter().map(|f| f.name).collect();
    // https://developer.hashicorp.com/vault/api-docs/secret/databases and the
    // postgresql, mysql-maria and redis plugin pages.
    let backend_fields = [
        "name",
        "plugin_name",
        "plugin_version",
        "verify_connection",
        "allowed_roles",
        "root_rotation_statements",
        "password_policy",
        "rotation_period",
        "rotation_schedule",
        "rotation_window",
        "disable_automated_rotation",
    ];
    let postgres = [
        "connection_url",
        "max_open_connections",
        "max_idle_connections",
        "max_connection_lifetime",
        "username",
        "password",
        "tls_ca",
        "tls_certificate",
        "private_key",
        "username_template",
        "disable_escaping",
        "password_authentication",
        "auth_type",
        "service_account_json",
        "use_private_ip",
        "private_service_connect",
        "self_managed",
    ];
    let mysql = [
        "connection_url",
        "max_open_connections",
        "max_idle_connections",
        "max_connection_lifetime",
        "username",
        "password",
        "tls_certificate_key",
        "tls_ca",
        "tls_server_name",
        "tls_skip_verify",
        "username_template",
        "auth_type",
        "service_account_json",
        "use_private_ip",
    ];
    let redis = [
        "host",
        "port",
        "username",
        "password",
        "tls",
        "insecure_tls",
        "ca_cert",
    ];
    for name in backend_fields
        .iter()
        .chain(&postgres)
        .chain(&mysql)
        .chain(&redis)
    {
        assert!(declared.contains(name), "config/:name lacks {name}");
    }
    // Every option a plugin stores is declared, so the handler never reads
    // an undeclared name.
    for factory in &b.factories {
        for option in factory.option_fields() {
            assert!(
                declared.contains(option),
                "{}: {option} is not declared",
                factory.name()
            );
        }
    }
    let mut sensitive: Vec<&str> = config
        .fields
        .iter()
        .filter(|f| f.sensitive)
        .map(|f| f.name)
        .collect();
    sensitive.sort_unstable();
    assert_eq!(
        sensitive,
        [
            "password",
            "private_key",
            "service_account_json",
            "tls_certificate_key"
        ]
    );
    let required: Vec<&str> = config
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    assert_eq!(required, ["name", "plugin_name"]);
    for pattern in ["roles/:name", "static-roles/:name"] {
        let names: Vec<&str> = decl(&paths, pattern)
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        assert!(names.contains(&"db_name"), "{pattern}: {names:?}");
    }
}

#[tokio::test]
async fn ignored_fields_are_warnings() {
    let h = Harness::new().await;
    let resp = h
        .write(
            "config/later",
            json!({
                "plugin_name": "postgresql-database-plugin",
                "connection_url": pg_config_url(1),
                "username": "u",
                "password": "p",
                "verify_connection": false,
                "allowed_roles": "r",
                "tls_skip_verify": true,
                "disable_escaping": false,
                "auth_type": "",
                "bogus": 1,
                "also_bogus": "x",
            }),
        )
        .await
        .unwrap()
        .expect("warnings");
    assert_eq!(
        resp.warnings,
        [
            "tls_skip_verify is not supported by Coffer and was ignored",
            "Endpoint ignored these unrecognized parameters: [also_bogus bogus]",
        ]
    );
    // Known fields alone: no warning at all.
    let resp = h
        .write("config/later", json!({"allowed_roles": "r,s"}))
        .await
        .unwrap();
    assert!(resp.is_none(), "{resp:?}");
    // Reads warn too, as Vault's framework does.
    let resp = h
        .call(Read, "config/later", json!({"bogus": 1}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        resp.warnings,
        ["Endpoint ignored these unrecognized parameters: [bogus]"]
    );
}

#[tokio::test]
async fn existence_checks_and_help() {
    let h = Harness::new().await;
    let exists = |path: &'static str| {
        let h = &h;
        async move { h.t.exists(&*h.backend, path).await.unwrap() }
    };
    assert_eq!(exists("config/later").await, Some(false));
    assert_eq!(exists("config/-bad").await, Some(false));
    assert_eq!(exists("roles/r").await, Some(false));
    assert_eq!(exists("static-roles/s").await, Some(false));
    assert_eq!(exists("creds/r").await, None);
    h.write(
        "config/later",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": pg_config_url(1),
            "verify_connection": false,
            "allowed_roles": "r",
        }),
    )
    .await
    .unwrap();
    h.write("roles/r", json!({"db_name": "later"}))
        .await
        .unwrap();
    assert_eq!(exists("config/later").await, Some(true));
    assert_eq!(exists("roles/r").await, Some(true));
    // An unknown path has no existence check: it fails after the ACL.
    assert_eq!(h.t.exists(&*h.backend, "nope/x").await.unwrap(), None);

    let help = h.call(Help, "config/x", json!({})).await.unwrap().unwrap();
    let text = help.data.unwrap()["help"].as_str().unwrap().to_owned();
    assert!(text.contains("private_key (string)"), "{text}");
    assert!(text.contains("tls_certificate_key (string)"), "{text}");
    let err = h.call(List, "config/x", json!({})).await.unwrap_err();
    assert_eq!(err.status(), 405);
}
