//! Helpers shared by the plugin's tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coffer_database_plugin::{ConnectionSettings, DatabasePlugin, NewUser, PluginFactory};
use coffer_database_postgres::PostgresFactory;
use coffer_types::Sensitive;
use tokio_postgres::{Client, NoTls};

/// A role name no other test (or test binary) uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whole seconds from now.
pub fn in_secs(secs: u64) -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(now + secs)
}

pub fn unix(t: SystemTime) -> i64 {
    i64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

pub fn settings(url: &str) -> ConnectionSettings {
    ConnectionSettings {
        connection_url: url.into(),
        ..ConnectionSettings::default()
    }
}

/// Root settings Vault-style: a templated URL and the credentials apart.
pub fn root_settings(port: u16, password: &str) -> ConnectionSettings {
    ConnectionSettings {
        connection_url: format!(
            "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{port}/postgres?sslmode=disable"
        ),
        username: "postgres".into(),
        password: Sensitive::from(password),
        ..ConnectionSettings::default()
    }
}

pub async fn plugin(settings: &ConnectionSettings) -> Arc<dyn DatabasePlugin> {
    PostgresFactory.connect(settings).await.unwrap()
}

/// A plain tokio-postgres connection (the test's own view of the server).
pub async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

pub fn new_user<'a>(
    username: &'a str,
    password: &'a Sensitive,
    expiration: SystemTime,
    creation: &'a [String],
    rollback: &'a [String],
) -> NewUser<'a> {
    NewUser {
        username,
        password,
        expiration,
        creation_statements: creation,
        rollback_statements: rollback,
    }
}

pub async fn role_exists(admin: &Client, name: &str) -> bool {
    admin
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
        .await
        .unwrap()
        .is_some()
}

/// Drops a role a failed test may have left behind.
pub async fn drop_role(admin: &Client, name: &str) {
    let _ = admin
        .batch_execute(&format!("DROP ROLE IF EXISTS \"{name}\""))
        .await;
}
