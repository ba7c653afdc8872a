//! Static roles: rotation on creation, on demand, on schedule, and after a
//! crash between "pending" and "applied".

use std::time::Duration;

use coffer_test_services::PgCluster;
use coffer_types::Operation;
use serde_json::json;

use super::harness::{Harness, pg_admin, pg_config_url, pg_login, s, unique};

async fn setup(cluster: &PgCluster) -> (Harness, String) {
    let h = Harness::new().await;
    h.write(
        "config/pg",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": pg_config_url(cluster.port()),
            "username": "postgres",
            "password": cluster.superuser_password(),
            "allowed_roles": "*",
        }),
    )
    .await
    .unwrap();
    let user = format!("app_{}", unique());
    let admin = pg_admin(&cluster.url()).await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE \"{user}\" LOGIN PASSWORD 'initial-pw'"
        ))
        .await
        .unwrap();
    (h, user)
}

async fn current_password(h: &Harness) -> String {
    s(&h.data("static-creds/web").await, "password")
}

#[tokio::test]
async fn static_role_rotates_on_creation_demand_and_schedule() {
    let Some(cluster) =
        PgCluster::start_or_skip("static_role_rotates_on_creation_demand_and_schedule")
    else {
        return;
    };
    let (h, user) = setup(&cluster).await;
    pg_login(&cluster.url_for(&user, "initial-pw"))
        .await
        .unwrap();
    h.write(
        "static-roles/web",
        json!({"db_name": "pg", "username": user, "rotation_period": "1h"}),
    )
    .await
    .unwrap();
    // Created: the password changed at once.
    let first = current_password(&h).await;
    pg_login(&cluster.url_for(&user, &first)).await.unwrap();
    assert!(
        pg_login(&cluster.url_for(&user, "initial-pw"))
            .await
            .is_err()
    );
    let creds = h.data("static-creds/web").await;
    assert_eq!(creds["username"], user.as_str());
    assert_eq!(creds["ttl"], 3600);
    assert_eq!(creds["rotation_period"], 3600);
    let role = h.data("static-roles/web").await;
    assert!(role.get("password").is_none());
    assert_eq!(role["ttl"], 3600);
    assert_eq!(role["rotation_pending"], false);
    assert!(role["last_vault_rotation"].is_string());
    let list = h
        .call(Operation::List, "static-roles", json!({}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(list.data.unwrap()["keys"], json!(["web"]));

    // On demand: the old password stops working, the schedule restarts.
    h.clock.advance(Duration::from_secs(600));
    h.write("rotate-role/web", json!({})).await.unwrap();
    let second = current_password(&h).await;
    assert_ne!(second, first);
    pg_login(&cluster.url_for(&user, &second)).await.unwrap();
    assert!(pg_login(&cluster.url_for(&user, &first)).await.is_err());
    assert_eq!(h.data("static-creds/web").await["ttl"], 3600);

    // On schedule, through the scheduler.
    assert!(h.tick().await.succeeded.is_empty());
    h.clock.advance(Duration::from_secs(3601));
    let report = h.tick().await;
    assert_eq!(report.succeeded, ["database/static-roles/web"]);
    let third = current_password(&h).await;
    assert_ne!(third, second);
    pg_login(&cluster.url_for(&user, &third)).await.unwrap();
    assert!(pg_login(&cluster.url_for(&user, &second)).await.is_err());

    // Deleting the role stops its rotation and leaves the user alone.
    h.call(Operation::Delete, "static-roles/web", json!({}))
        .await
        .unwrap();
    assert!(
        h.scheduler
            .get("database/static-roles/web")
            .await
            .unwrap()
            .is_none()
    );
    pg_login(&cluster.url_for(&user, &third)).await.unwrap();
}

#[tokio::test]
async fn crash_between_pending_and_applied_recovers_a_working_password() {
    let Some(cluster) =
        PgCluster::start_or_skip("crash_between_pending_and_applied_recovers_a_working_password")
    else {
        return;
    };
    let (h, user) = setup(&cluster).await;
    h.write(
        "static-roles/web",
        json!({"db_name": "pg", "username": user, "rotation_schedule": "0 3 * * *"}),
    )
    .await
    .unwrap();
    let before = current_password(&h).await;

    // The database takes the new password, then the server "dies" before
    // recording it as current.
    h.arm_crash_after_apply();
    let err = h.write("rotate-role/web", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("injected crash"), "{err}");
    assert!(pg_login(&cluster.url_for(&user, &before)).await.is_err());
    assert_eq!(h.data("static-roles/web").await["rotation_pending"], true);

    // The restarted server retries the pending rotation at once.
    let restarted = h.restart().await;
    let report = restarted.tick().await;
    assert_eq!(
        report.succeeded,
        ["database/static-roles/web"],
        "{report:?}"
    );
    let after = current_password(&restarted).await;
    assert_ne!(after, before);
    pg_login(&cluster.url_for(&user, &after)).await.unwrap();
    assert_eq!(
        restarted.data("static-roles/web").await["rotation_pending"],
        false
    );
}

#[tokio::test]
async fn unreachable_database_keeps_the_old_password_and_retries() {
    let Some(cluster) =
        PgCluster::start_or_skip("unreachable_database_keeps_the_old_password_and_retries")
    else {
        return;
    };
    let (h, user) = setup(&cluster).await;
    h.write(
        "static-roles/web",
        json!({"db_name": "pg", "username": user, "rotation_period": "1h"}),
    )
    .await
    .unwrap();
    let before = current_password(&h).await;
    // Point the connection nowhere (unverified), then rotate.
    h.write(
        "config/pg",
        json!({"connection_url": pg_config_url(1), "verify_connection": false}),
    )
    .await
    .unwrap();
    let err = h.write("rotate-role/web", json!({})).await.unwrap_err();
    assert_eq!(err.status(), 400, "{err}");
    assert_eq!(current_password(&h).await, before);
    pg_login(&cluster.url_for(&user, &before)).await.unwrap();
    // The failed rotation is due again and fails visibly in the scheduler.
    let report = h.tick().await;
    assert_eq!(report.failed, ["database/static-roles/web"]);
    let role = h.data("static-roles/web").await;
    assert_eq!(role["rotation_pending"], true);
    assert!(
        role["last_rotation_error"]
            .as_str()
            .unwrap()
            .contains("error connecting"),
        "{role:?}"
    );
    // Back online: the retry (after back-off) applies the pending password.
    h.write(
        "config/pg",
        json!({"connection_url": pg_config_url(cluster.port())}),
    )
    .await
    .unwrap();
    h.clock.advance(Duration::from_secs(600));
    let report = h.tick().await;
    assert_eq!(
        report.succeeded,
        ["database/static-roles/web"],
        "{report:?}"
    );
    let after = current_password(&h).await;
    assert_ne!(after, before);
    pg_login(&cluster.url_for(&user, &after)).await.unwrap();
}

#[tokio::test]
async fn bad_static_roles_are_400s_and_store_nothing() {
    let Some(cluster) = PgCluster::start_or_skip("bad_static_roles_are_400s_and_store_nothing")
    else {
        return;
    };
    let (h, user) = setup(&cluster).await;
    for (body, expected) in [
        (
            json!({"db_name": "pg", "username": user}),
            "one of rotation_schedule or rotation_period",
        ),
        (
            json!({"db_name": "pg", "username": user, "rotation_period": "2s"}),
            "5 seconds",
        ),
        (
            json!({"db_name": "pg", "username": user, "rotation_schedule": "every day"}),
            "invalid cron",
        ),
        (
            json!({"db_name": "pg", "username": user, "rotation_period": "1h", "rotation_schedule": "0 * * * *"}),
            "mutually exclusive",
        ),
        (
            json!({"db_name": "pg", "username": user, "rotation_period": "1h", "rotation_window": "2h"}),
            "rotation_window",
        ),
        (
            json!({"db_name": "pg", "rotation_period": "1h"}),
            "username",
        ),
        (
            json!({"username": user, "rotation_period": "1h"}),
            "database name",
        ),
        (
            json!({"db_name": "nodb", "username": user, "rotation_period": "1h"}),
            "unable to find config",
        ),
        // A user that does not exist: the rotation fails, nothing is kept.
        (
            json!({"db_name": "pg", "username": "no_such_user_x", "rotation_period": "1h"}),
            "failed to rotate",
        ),
    ] {
        let err = h.write("static-roles/web", body.clone()).await.unwrap_err();
        assert_eq!(err.status(), 400, "{body}: {err}");
        assert!(err.to_string().contains(expected), "{body}: {err}");
        assert!(
            h.read("static-roles/web").await.unwrap().is_none(),
            "{body}"
        );
        assert!(
            h.scheduler
                .get("database/static-roles/web")
                .await
                .unwrap()
                .is_none()
        );
    }
    h.write(
        "static-roles/web",
        json!({"db_name": "pg", "username": user, "rotation_period": "1h"}),
    )
    .await
    .unwrap();
    let err = h
        .write("static-roles/web", json!({"username": "someone_else"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot update static account username")
    );
    assert_eq!(h.read("static-creds/none").await.unwrap_err().status(), 400);
    assert_eq!(
        h.write("rotate-role/none", json!({}))
            .await
            .unwrap_err()
            .status(),
        400
    );
}
