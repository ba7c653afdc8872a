//! The database engine through the whole pipeline: the core registers the
//! lease of each dynamic user, renews it through the engine, and the
//! expiration manager drops the user when the controllable clock passes its
//! TTL.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use coffer_core::{Core, CoreConfig};
use coffer_sdk::{Clock, ManualClock};
use coffer_storage::MemoryStorage;
use coffer_test_services::{Service, require};
use coffer_types::{Operation, Request, Response, Result};
use serde_json::{Value, json};

async fn call(
    core: &Core,
    token: &str,
    op: Operation,
    path: &str,
    data: Value,
) -> Result<Response> {
    let req = Request::new(op, path)
        .with_data(data.as_object().cloned().unwrap_or_default())
        .with_token(token);
    core.handle(req).await
}

async fn valid_until(pg: &tokio_postgres::Client, user: &str) -> Option<Option<SystemTime>> {
    pg.query_opt(
        "SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1",
        &[&user],
    )
    .await
    .unwrap()
    .map(|row| row.get(0))
}

#[tokio::test]
async fn dynamic_users_expire_on_the_clock() {
    let Some(url) = require(Service::Postgres, "dynamic_users_expire_on_the_clock") else {
        return;
    };
    let (pg, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let (host, port) = coffer_test_services::host_port(&url, 5432).unwrap();

    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000),
    ));
    let core = Core::new(
        Arc::new(MemoryStorage::new()),
        CoreConfig {
            clock: clock.clone(),
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    let root = core
        .dev_init(None)
        .await
        .unwrap()
        .root_token
        .expose()
        .to_owned();
    call(
        &core,
        &root,
        Operation::Update,
        "sys/mounts/database",
        json!({"type": "database"}),
    )
    .await
    .unwrap();
    call(
        &core,
        &root,
        Operation::Update,
        "database/config/pg",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": format!("postgresql://{{{{username}}}}:{{{{password}}}}@{host}:{port}/postgres?sslmode=disable"),
            "username": "postgres",
            "password": "unused-under-trust",
            "allowed_roles": "app",
        }),
    )
    .await
    .unwrap();
    call(
        &core,
        &root,
        Operation::Update,
        "database/roles/app",
        json!({"db_name": "pg", "default_ttl": "1h", "max_ttl": "3h"}),
    )
    .await
    .unwrap();

    let creds = call(
        &core,
        &root,
        Operation::Read,
        "database/creds/app",
        json!({}),
    )
    .await
    .unwrap();
    let secret = creds.secret.as_ref().unwrap();
    assert!(
        secret.lease_id.starts_with("database/creds/app/"),
        "{}",
        secret.lease_id
    );
    assert_eq!(secret.ttl, Duration::from_secs(3600));
    let user = creds.data.as_ref().unwrap()["username"]
        .as_str()
        .unwrap()
        .to_owned();
    // The default template: v-<display name>-<role>-<random>-<unix time>.
    assert!(user.starts_with("v-root-app-"), "{user}");
    assert_eq!(
        valid_until(&pg, &user).await,
        Some(Some(clock.now() + Duration::from_secs(3600)))
    );

    // Renewal through sys/leases moves VALID UNTIL; max_ttl caps it.
    clock.advance(Duration::from_secs(1800));
    let renewed = call(
        &core,
        &root,
        Operation::Update,
        "sys/leases/renew",
        json!({"lease_id": secret.lease_id, "increment": "2h"}),
    )
    .await
    .unwrap();
    assert_eq!(
        renewed.secret.as_ref().unwrap().ttl,
        Duration::from_secs(7200)
    );
    assert_eq!(
        valid_until(&pg, &user).await,
        Some(Some(clock.now() + Duration::from_secs(7200)))
    );

    // Not yet due: nothing happens; past the TTL the user is dropped.
    clock.advance(Duration::from_secs(7000));
    core.expire_leases_now().await.unwrap();
    assert!(valid_until(&pg, &user).await.is_some());
    clock.advance(Duration::from_secs(201));
    core.expire_leases_now().await.unwrap();
    assert_eq!(
        valid_until(&pg, &user).await,
        None,
        "expired user not dropped"
    );
    let lookup = call(
        &core,
        &root,
        Operation::Update,
        "sys/leases/lookup",
        json!({"lease_id": secret.lease_id}),
    )
    .await;
    assert_eq!(lookup.unwrap_err().status(), 400);
}
