//! The database engine in the real server, on real storage: dynamic users
//! revoked in bulk with `coffer lease revoke -prefix` (incident response),
//! a static role rotated through `coffer rotation run`, everything surviving
//! `kill -9` and restart, and no password in plaintext on disk, in the audit
//! log or in the server's output.

mod support;

use std::path::Path;
use std::process::Command;

use coffer_test_services::{Service, require};
use serde_json::{Value, json};
use support::{Api, ServerProcess, coffer_bin, unseal, write_config};

fn cli(addr: &str, token: &str, home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(coffer_bin())
        .args(args)
        .env("HOME", home)
        .env("VAULT_ADDR", addr)
        .env("VAULT_TOKEN", token)
        .env_remove("COFFER_ADDR")
        .env_remove("COFFER_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn pg_admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

async fn role_exists(pg: &tokio_postgres::Client, name: &str) -> bool {
    pg.query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
        .await
        .unwrap()
        .is_some()
}

fn everything_under(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.extend(bytes);
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_response_rotation_and_no_plaintext() {
    let Some(pg_url) = require(
        Service::Postgres,
        "incident_response_rotation_and_no_plaintext",
    ) else {
        return;
    };
    let pg = pg_admin(&pg_url).await;
    let (host, port) = coffer_test_services::host_port(&pg_url, 5432).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None);
    let server = ServerProcess::start(&["-config", config.to_str().unwrap()], dir.path(), false);
    let mut api = Api::new(&server.addr, None);
    let (_, init) = api
        .put(
            "sys/init",
            json!({"secret_shares": 1, "secret_threshold": 1}),
        )
        .await;
    let key = init["keys"][0].as_str().unwrap().to_owned();
    unseal(&api, &[&key]).await;
    let root = init["root_token"].as_str().unwrap().to_owned();
    api.token = Some(root.clone());
    let audit_log = dir.path().join("audit.log");
    let (status, body) = api
        .put(
            "sys/audit/file",
            json!({"type": "file", "options": {"file_path": audit_log.to_str().unwrap()}}),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    // Trust authentication ignores the root password, so a canary is safe.
    let canary = "canary-e2e-root-pw-51d0";
    assert_eq!(
        api.put("sys/mounts/database", json!({"type": "database"}))
            .await
            .0,
        204
    );
    let (status, body) = api
        .put(
            "database/config/pg",
            json!({
                "plugin_name": "postgresql-database-plugin",
                "connection_url": format!("postgresql://{{{{username}}}}:{{{{password}}}}@{host}:{port}/postgres?sslmode=disable"),
                "username": "postgres",
                "password": canary,
                "allowed_roles": "*",
            }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        api.put(
            "database/roles/app",
            json!({"db_name": "pg", "default_ttl": "1h"})
        )
        .await
        .0,
        204
    );

    // Three dynamic users, then the incident: revoke them all at once.
    let mut users = Vec::new();
    let mut passwords = Vec::new();
    for _ in 0..3 {
        let (status, creds) = api.get("database/creds/app").await;
        assert_eq!(status, 200, "{creds}");
        assert_eq!(creds["lease_duration"], 3600);
        users.push(creds["data"]["username"].as_str().unwrap().to_owned());
        passwords.push(creds["data"]["password"].as_str().unwrap().to_owned());
    }
    for u in &users {
        assert!(role_exists(&pg, u).await, "{u}");
    }
    let (code, out, err) = cli(
        &server.addr,
        &root,
        dir.path(),
        &["lease", "revoke", "-prefix", "database/creds/app"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Success! Revoked every lease under: database/creds/app"),
        "{out}"
    );
    for u in &users {
        assert!(!role_exists(&pg, u).await, "{u} survived revoke -prefix");
    }
    let (status, _) = api
        .call("LIST", "sys/leases/lookup/database/creds/app", None)
        .await;
    assert_eq!(status, 404);

    // A static role, rotated on demand through the scheduler's CLI.
    let static_user = format!("e2e_static_{}", std::process::id());
    pg.batch_execute(&format!(
        "DROP ROLE IF EXISTS \"{static_user}\"; CREATE ROLE \"{static_user}\" LOGIN"
    ))
    .await
    .unwrap();
    let (status, body) = api
        .put(
            "database/static-roles/web",
            json!({"db_name": "pg", "username": static_user, "rotation_period": "24h"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let first = api.get("database/static-creds/web").await.1["data"]["password"].clone();
    let (code, out, err) = cli(
        &server.addr,
        &root,
        dir.path(),
        &["rotation", "list", "-format=json"],
    );
    assert_eq!(code, 0, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        listed["key_info"]["database/static-roles/web"]["kind"], "static-role-rotation",
        "{listed}"
    );
    let (code, _, err) = cli(
        &server.addr,
        &root,
        dir.path(),
        &["rotation", "run", "database/static-roles/web"],
    );
    assert_eq!(code, 0, "{err}");
    let second = api.get("database/static-creds/web").await.1["data"]["password"].clone();
    assert_ne!(first, second);
    passwords.push(first.as_str().unwrap().to_owned());
    passwords.push(second.as_str().unwrap().to_owned());

    // kill -9 and restart: the password and its schedule are still there.
    let output = server.kill();
    let server = ServerProcess::start(&["-config", config.to_str().unwrap()], dir.path(), false);
    let mut api = Api::new(&server.addr, None);
    unseal(&api, &[&key]).await;
    api.token = Some(root.clone());
    let (status, again) = api.get("database/static-creds/web").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["data"]["password"], second);
    assert!(again["data"]["ttl"].as_u64().unwrap() > 0);
    let (_, jobs) = api.get("sys/rotation").await;
    assert!(
        jobs["data"]["key_info"]["database/static-roles/web"].is_object(),
        "{jobs}"
    );

    // No password in plaintext anywhere the server wrote.
    let output = format!("{output}{}", server.kill());
    let mut written = everything_under(dir.path());
    written.extend(output.as_bytes());
    assert!(std::fs::metadata(&audit_log).unwrap().len() > 0);
    for secret in passwords.iter().map(String::as_str).chain([canary]) {
        assert!(
            !contains(&written, secret),
            "a password leaked into storage, the audit log or the output"
        );
    }
    pg.batch_execute(&format!("DROP ROLE IF EXISTS \"{static_user}\""))
        .await
        .unwrap();
}
