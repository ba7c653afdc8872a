//! `roles/:name` and `creds/:name`: real users under leases.

use std::time::Duration;

use coffer_sdk::Backend;
use coffer_test_services::{PgCluster, Service, require};
use coffer_types::Operation;
use serde_json::json;

use super::harness::{
    Harness, pg_admin, pg_config_url, pg_config_url_of, pg_login, pg_role_exists, s, unique,
};

#[tokio::test]
async fn creds_create_renew_and_revoke_users() {
    let Some(url) = require(Service::Postgres, "creds_create_renew_and_revoke_users") else {
        return;
    };
    let admin = pg_admin(&url).await;
    let h = Harness::new().await;
    let tag = format!("t{}", unique());
    h.write(
        "config/pg",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": pg_config_url_of(&url),
            "username": "postgres",
            "password": "unused-under-trust",
            "allowed_roles": "app",
            "username_template": format!("{{{{ printf \"{tag}-%s-%s\" .RoleName (random 6) }}}}"),
        }),
    )
    .await
    .unwrap();
    h.write(
        "roles/app",
        json!({"db_name": "pg", "default_ttl": "1h", "max_ttl": "24h"}),
    )
    .await
    .unwrap();
    let role = h.data("roles/app").await;
    assert_eq!(role["default_ttl"], 3600);
    assert_eq!(role["max_ttl"], 86_400);

    let resp = h.read("creds/app").await.unwrap().unwrap();
    let data = resp.data.clone().unwrap();
    let user = s(&data, "username");
    assert!(user.starts_with(&format!("{tag}-app-")), "{user}");
    assert_eq!(s(&data, "password").len(), 20);
    let secret = resp.secret.as_ref().unwrap();
    assert_eq!(secret.ttl, Duration::from_secs(3600));
    assert!(secret.renewable);
    let internal = secret.internal_data.as_ref().unwrap();
    assert_eq!(internal["username"], user.as_str());
    assert!(
        !serde_json::to_string(internal)
            .unwrap()
            .contains(&s(&data, "password"))
    );
    assert!(pg_role_exists(&admin, &user).await);
    let until: Option<std::time::SystemTime> = admin
        .query_one(
            "SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(until, Some(h.clock_now() + Duration::from_secs(3600)));

    // Renewal moves VALID UNTIL.
    let lease = h.lease_of(&resp, "app");
    let granted = h
        .backend
        .renew_lease(&h.ctx, &lease, Duration::from_secs(7200))
        .await
        .unwrap();
    assert_eq!(granted, Duration::from_secs(7200));
    let until: Option<std::time::SystemTime> = admin
        .query_one(
            "SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(until, Some(h.clock_now() + Duration::from_secs(7200)));

    // Revocation drops the user, and is idempotent.
    h.backend.revoke_lease(&h.ctx, &lease).await.unwrap();
    assert!(!pg_role_exists(&admin, &user).await);
    h.backend.revoke_lease(&h.ctx, &lease).await.unwrap();

    // A deleted role still revokes with the plugin's defaults.
    let resp = h.read("creds/app").await.unwrap().unwrap();
    let user = s(resp.data.as_ref().unwrap(), "username");
    h.call(Operation::Delete, "roles/app", json!({}))
        .await
        .unwrap();
    h.backend
        .revoke_lease(&h.ctx, &h.lease_of(&resp, "app"))
        .await
        .unwrap();
    assert!(!pg_role_exists(&admin, &user).await);
}

#[tokio::test]
async fn bad_roles_and_statements_leave_nothing_behind() {
    let Some(url) = require(
        Service::Postgres,
        "bad_roles_and_statements_leave_nothing_behind",
    ) else {
        return;
    };
    let admin = pg_admin(&url).await;
    let h = Harness::new().await;
    let tag = format!("t{}", unique());
    h.write(
        "config/pg",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": pg_config_url_of(&url),
            "username": "postgres",
            "password": "unused",
            "allowed_roles": ["app", "broken"],
            "username_template": format!("{tag}-{{{{random 8}}}}"),
        }),
    )
    .await
    .unwrap();
    // Not in allowed_roles.
    h.write("roles/other", json!({"db_name": "pg"}))
        .await
        .unwrap();
    let err = h.read("creds/other").await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(err.to_string().contains("not an allowed role"), "{err}");
    // Unknown role and unknown connection.
    assert_eq!(h.read("creds/none").await.unwrap_err().status(), 400);
    h.write("roles/app", json!({"db_name": "nodb"}))
        .await
        .unwrap();
    assert_eq!(h.read("creds/app").await.unwrap_err().status(), 400);
    // Bad role fields.
    for body in [
        json!({"db_name": "pg", "default_ttl": "2h", "max_ttl": "1h"}),
        json!({"db_name": "pg", "creation_statements": 5}),
        json!({"db_name": "pg", "credential_type": "rsa_private_key"}),
        json!({"default_ttl": "1h"}),
    ] {
        let err = h.write("roles/fresh", body.clone()).await.unwrap_err();
        assert_eq!(err.status(), 400, "{body}");
    }
    assert!(h.read("roles/fresh").await.unwrap().is_none());

    // The second statement fails: the user made by the first is rolled back.
    h.write(
        "roles/broken",
        json!({
            "db_name": "pg",
            "creation_statements": [
                "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
                "GRANT SELCT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";"
            ],
        }),
    )
    .await
    .unwrap();
    let err = h.read("creds/broken").await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(err.to_string().contains("statement failed"), "{err}");
    assert!(err.to_string().contains("selct"), "{err}");
    let left = admin
        .query(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
            &[&format!("{tag}-%")],
        )
        .await
        .unwrap();
    assert!(left.is_empty(), "a half-created user was left behind");
}

#[tokio::test]
async fn creds_log_in_until_revoked() {
    let Some(cluster) = PgCluster::start_or_skip("creds_log_in_until_revoked") else {
        return;
    };
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
    h.write("roles/app", json!({"db_name": "pg"}))
        .await
        .unwrap();
    let resp = h.read("creds/app").await.unwrap().unwrap();
    let data = resp.data.clone().unwrap();
    let (user, password) = (s(&data, "username"), s(&data, "password"));
    pg_login(&cluster.url_for(&user, &password)).await.unwrap();
    assert!(pg_login(&cluster.url_for(&user, "wrong")).await.is_err());

    // An open session ends with the revocation.
    let (session, conn) =
        tokio_postgres::connect(&cluster.url_for(&user, &password), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    h.backend
        .revoke_lease(&h.ctx, &h.lease_of(&resp, "app"))
        .await
        .unwrap();
    assert!(
        session.simple_query("SELECT 1").await.is_err(),
        "session survived revocation"
    );
    let err = pg_login(&cluster.url_for(&user, &password))
        .await
        .unwrap_err();
    assert!(
        err.contains("password authentication failed") || err.contains("does not exist"),
        "{err}"
    );
}
