//! Dynamic credentials on Redis (ACL users) and MariaDB.

use coffer_sdk::Backend;
use coffer_test_services::{Service, require};
use serde_json::json;

use super::harness::{Harness, s};

async fn redis_auth(url: &str, user: &str, password: &str) -> Result<String, String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    redis::cmd("AUTH")
        .arg(user)
        .arg(password)
        .query_async::<String>(&mut conn)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn redis_acl_users_under_leases() {
    let Some(url) = require(Service::Redis, "redis_acl_users_under_leases") else {
        return;
    };
    let (host, port) = coffer_test_services::host_port(&url, 6379)
        .expect("the test Redis URL has a host and port");
    let h = Harness::new().await;
    h.write(
        "config/cache",
        json!({
            "plugin_name": "redis-database-plugin",
            "host": host,
            "port": port,
            "username": "default",
            "password": "",
            "allowed_roles": "reader",
        }),
    )
    .await
    .unwrap();
    h.write(
        "roles/reader",
        json!({"db_name": "cache", "creation_statements": "[\"~*\", \"+@read\"]", "default_ttl": "5m"}),
    )
    .await
    .unwrap();
    // The JSON statement is one entry, not split on its comma.
    assert_eq!(
        h.data("roles/reader").await["creation_statements"],
        json!(["[\"~*\", \"+@read\"]"])
    );
    let resp = h.read("creds/reader").await.unwrap().unwrap();
    let data = resp.data.clone().unwrap();
    let (user, password) = (s(&data, "username"), s(&data, "password"));
    assert_eq!(redis_auth(&url, &user, &password).await.unwrap(), "OK");
    assert!(redis_auth(&url, &user, "wrong").await.is_err());
    h.backend
        .revoke_lease(&h.ctx, &h.lease_of(&resp, "reader"))
        .await
        .unwrap();
    assert!(redis_auth(&url, &user, &password).await.is_err());
}

#[tokio::test]
async fn mariadb_users_under_leases() {
    let Some(url) = require(Service::Mysql, "mariadb_users_under_leases") else {
        return;
    };
    let Some((host, port)) = coffer_test_services::host_port(&url, 3306) else {
        panic!("cannot parse {url}");
    };
    let h = Harness::new().await;
    h.write(
        "config/maria",
        json!({
            "plugin_name": "mysql-database-plugin",
            "connection_url": format!("{{{{username}}}}:{{{{password}}}}@tcp({host}:{port})/"),
            "username": "root",
            "password": "",
            "allowed_roles": "app",
        }),
    )
    .await
    .unwrap();
    h.write("roles/app", json!({"db_name": "maria"}))
        .await
        .unwrap();
    let resp = h.read("creds/app").await.unwrap().unwrap();
    let data = resp.data.clone().unwrap();
    let (user, password) = (s(&data, "username"), s(&data, "password"));
    assert!(user.len() <= 32, "{user}");
    let login = |pw: String| {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname(host.clone())
            .tcp_port(port)
            .user(Some(user.clone()))
            .pass(Some(pw));
        async move {
            let mut conn = mysql_async::Conn::new(opts)
                .await
                .map_err(|e| e.to_string())?;
            use mysql_async::prelude::Queryable;
            let one: Option<u8> = conn
                .query_first("SELECT 1")
                .await
                .map_err(|e| e.to_string())?;
            let _ = conn.disconnect().await;
            Ok::<_, String>(one)
        }
    };
    assert_eq!(login(password.clone()).await.unwrap(), Some(1));
    assert!(login("wrong".into()).await.is_err());
    h.backend
        .revoke_lease(&h.ctx, &h.lease_of(&resp, "app"))
        .await
        .unwrap();
    assert!(login(password).await.is_err());
}
