//! Root rotation: on demand and on schedule; dynamic credentials keep working.

use std::time::Duration;

use coffer_test_services::PgCluster;
use serde_json::json;

use super::harness::{Harness, pg_admin, pg_config_url, pg_login, s, unique};

#[tokio::test]
async fn root_rotation_on_demand_and_on_schedule() {
    let Some(cluster) = PgCluster::start_or_skip("root_rotation_on_demand_and_on_schedule") else {
        return;
    };
    let admin_user = format!("vaultadmin_{}", unique());
    pg_admin(&cluster.url())
        .await
        .batch_execute(&format!(
            "CREATE ROLE \"{admin_user}\" LOGIN CREATEROLE PASSWORD 'admin-initial'"
        ))
        .await
        .unwrap();
    let h = Harness::new().await;
    h.write(
        "config/pg",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": pg_config_url(cluster.port()),
            "username": admin_user,
            "password": "admin-initial",
            "allowed_roles": "*",
            "rotation_period": "24h",
        }),
    )
    .await
    .unwrap();
    h.write("roles/app", json!({"db_name": "pg"}))
        .await
        .unwrap();
    let before = h.read("creds/app").await.unwrap().unwrap();

    h.write("rotate-root/pg", json!({})).await.unwrap();
    assert!(
        pg_login(&cluster.url_for(&admin_user, "admin-initial"))
            .await
            .is_err()
    );
    let config = h.data("config/pg").await;
    assert!(config["last_root_rotation"].is_string());
    assert_eq!(config["rotation_period"], 86_400);
    assert!(
        !serde_json::to_string(&config)
            .unwrap()
            .contains("admin-initial")
    );
    // Outstanding leases still revoke, new credentials still work.
    h.backend_revoke(&before, "app").await;
    let fresh = h.read("creds/app").await.unwrap().unwrap();
    let data = fresh.data.clone().unwrap();
    pg_login(&cluster.url_for(&s(&data, "username"), &s(&data, "password")))
        .await
        .unwrap();

    // Scheduled: a day later the scheduler rotates again.
    let first = h.data("config/pg").await["last_root_rotation"].clone();
    h.clock.advance(Duration::from_secs(86_401));
    let report = h.tick().await;
    assert_eq!(report.succeeded, ["database/config/pg"], "{report:?}");
    assert_ne!(h.data("config/pg").await["last_root_rotation"], first);
    let again = h.read("creds/app").await.unwrap().unwrap();
    let data = again.data.unwrap();
    pg_login(&cluster.url_for(&s(&data, "username"), &s(&data, "password")))
        .await
        .unwrap();

    // A literal password in the URL cannot be rotated.
    h.write(
        "config/lit",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": format!("postgresql://x:y@127.0.0.1:{}/postgres?sslmode=disable", cluster.port()),
            "verify_connection": false,
        }),
    )
    .await
    .unwrap();
    let err = h.write("rotate-root/lit", json!({})).await.unwrap_err();
    assert_eq!(err.status(), 400);
}

#[tokio::test]
async fn root_rotation_crash_recovers_without_losing_the_root() {
    let Some(cluster) =
        PgCluster::start_or_skip("root_rotation_crash_recovers_without_losing_the_root")
    else {
        return;
    };
    let admin_user = format!("vaultadmin_{}", unique());
    pg_admin(&cluster.url())
        .await
        .batch_execute(&format!(
            "CREATE ROLE \"{admin_user}\" LOGIN CREATEROLE PASSWORD 'admin-initial'"
        ))
        .await
        .unwrap();
    let h = Harness::new().await;
    h.write(
        "config/pg",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": pg_config_url(cluster.port()),
            "username": admin_user,
            "password": "admin-initial",
            "allowed_roles": "*",
        }),
    )
    .await
    .unwrap();
    h.write("roles/app", json!({"db_name": "pg"}))
        .await
        .unwrap();
    h.arm_crash_after_apply();
    assert!(h.write("rotate-root/pg", json!({})).await.is_err());
    assert_eq!(h.data("config/pg").await["root_rotation_pending"], true);
    // After a restart the connection finds the password the database has.
    let restarted = h.restart().await;
    let fresh = restarted.read("creds/app").await.unwrap().unwrap();
    let data = fresh.data.unwrap();
    pg_login(&cluster.url_for(&s(&data, "username"), &s(&data, "password")))
        .await
        .unwrap();
    // The next rotation settles the pending one, then rotates.
    restarted.write("rotate-root/pg", json!({})).await.unwrap();
    assert_eq!(
        restarted.data("config/pg").await["root_rotation_pending"],
        false
    );
    let fresh = restarted.read("creds/app").await.unwrap().unwrap();
    let data = fresh.data.unwrap();
    pg_login(&cluster.url_for(&s(&data, "username"), &s(&data, "password")))
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_root_credentials_are_a_400_and_store_nothing() {
    let Some(cluster) =
        PgCluster::start_or_skip("wrong_root_credentials_are_a_400_and_store_nothing")
    else {
        return;
    };
    let h = Harness::new().await;
    let err = h
        .write(
            "config/pg",
            json!({
                "plugin_name": "postgresql-database-plugin",
                "connection_url": pg_config_url(cluster.port()),
                "username": "postgres",
                "password": "canary-wrong-root-pw",
                "allowed_roles": "*",
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(
        err.to_string().contains("error creating database object"),
        "{err}"
    );
    assert!(!err.to_string().contains("canary-wrong-root-pw"), "{err}");
    assert!(h.read("config/pg").await.unwrap().is_none());
}
