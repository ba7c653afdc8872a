//! `config/:name`: writes, reads that never show the root password, bad input.

use coffer_test_services::{Service, require};
use coffer_types::Operation;
use serde_json::json;

use super::harness::{Harness, pg_config_url, pg_config_url_of};

#[tokio::test]
async fn config_lifecycle_hides_the_root_password() {
    let Some(url) = require(
        Service::Postgres,
        "config_lifecycle_hides_the_root_password",
    ) else {
        return;
    };
    let h = Harness::new().await;
    // Trust authentication: any password connects, so a canary is safe here.
    let canary = "canary-root-pw-7f3a9c";
    let resp = h
        .write(
            "config/pg",
            json!({
                "plugin_name": "postgresql-database-plugin",
                "connection_url": pg_config_url_of(&url),
                "username": "postgres",
                "password": canary,
                "allowed_roles": "app-*,reader",
                "max_open_connections": 3,
            }),
        )
        .await
        .unwrap();
    assert!(resp.is_none(), "no warnings with allowed roles");
    let data = h.data("config/pg").await;
    assert_eq!(data["plugin_name"], "postgresql-database-plugin");
    assert_eq!(data["allowed_roles"], json!(["app-*", "reader"]));
    assert_eq!(data["connection_details"]["username"], "postgres");
    assert_eq!(data["connection_details"]["max_open_connections"], 3);
    assert_eq!(
        data["connection_details"]["connection_url"],
        pg_config_url_of(&url)
    );
    assert_eq!(data["verify_connection"], true);
    let text = serde_json::to_string(&data).unwrap();
    assert!(!text.contains(canary), "{text}");
    assert!(!text.contains("\"password\""), "{text}");

    // An update keeps what it does not name, the password included.
    h.write("config/pg", json!({"allowed_roles": "*"}))
        .await
        .unwrap();
    let data = h.data("config/pg").await;
    assert_eq!(data["allowed_roles"], json!(["*"]));
    assert_eq!(data["plugin_name"], "postgresql-database-plugin");

    let list = h
        .call(Operation::List, "config", json!({}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(list.data.unwrap()["keys"], json!(["pg"]));

    h.call(Operation::Delete, "config/pg", json!({}))
        .await
        .unwrap();
    assert!(h.read("config/pg").await.unwrap().is_none());
    let empty = h
        .call(Operation::List, "config", json!({}))
        .await
        .unwrap_err();
    assert_eq!(empty.status(), 404);
}

#[tokio::test]
async fn bad_configs_are_400s_and_store_nothing() {
    let Some(url) = require(Service::Postgres, "bad_configs_are_400s_and_store_nothing") else {
        return;
    };
    let h = Harness::new().await;
    let good = json!({
        "plugin_name": "postgresql-database-plugin",
        "connection_url": pg_config_url_of(&url),
        "username": "postgres",
        "password": "x",
        "allowed_roles": "*",
    });
    let cases = [
        (
            json!({"connection_url": pg_config_url_of(&url)}),
            "empty plugin name",
        ),
        (
            json!({"plugin_name": "oracle-database-plugin"}),
            "not found in the catalog",
        ),
        // Nothing listens on port 1: a prompt 400, not a hang or a 500.
        (
            json!({"connection_url": pg_config_url(1)}),
            "error creating database object",
        ),
        (
            json!({"connection_url": "not a url"}),
            "error creating database object",
        ),
        (
            json!({"rotation_schedule": "61 * * * *"}),
            "invalid cron expression",
        ),
        (
            json!({"rotation_period": "1h", "rotation_schedule": "0 * * * *"}),
            "mutually exclusive",
        ),
        (json!({"rotation_window": "2h"}), "rotation_window"),
        (json!({"password_policy": "missing"}), "does not exist"),
        (
            json!({"username_template": "{{ nosuchfunc }}"}),
            "invalid username template",
        ),
        (json!({"max_open_connections": -1}), "max_open_connections"),
    ];
    for (patch, expected) in cases {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        if expected == "empty plugin name" {
            body.as_object_mut().unwrap().remove("plugin_name");
        }
        let err = h.write("config/bad", body.clone()).await.unwrap_err();
        assert_eq!(err.status(), 400, "{body}: {err}");
        assert!(err.to_string().contains(expected), "{body}: {err}");
        assert!(h.read("config/bad").await.unwrap().is_none(), "{body}");
    }
    // Invalid names are not paths of this engine.
    let err = h.write("config/-bad", good.clone()).await.unwrap_err();
    assert_eq!(err.status(), 404);
    // Reset of a missing connection.
    let err = h.write("reset/none", json!({})).await.unwrap_err();
    assert_eq!(err.status(), 400);
}

#[tokio::test]
async fn unverified_config_can_point_nowhere_until_used() {
    let h = Harness::new().await;
    h.write(
        "config/later",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": pg_config_url(1),
            "username": "u",
            "password": "p",
            "verify_connection": false,
            "allowed_roles": "r",
        }),
    )
    .await
    .unwrap();
    h.write("roles/r", json!({"db_name": "later"}))
        .await
        .unwrap();
    let err = h.read("creds/r").await.unwrap_err();
    assert_eq!(err.status(), 400, "{err}");
}

#[tokio::test]
async fn reads_never_return_a_client_private_key() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["client".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let h = Harness::new().await;
    h.write(
        "config/pg",
        json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": pg_config_url(1),
            "username": "u",
            "password": "p",
            "verify_connection": false,
            "tls_certificate": cert.pem(),
            "private_key": key.serialize_pem(),
        }),
    )
    .await
    .unwrap();
    let details = h.data("config/pg").await["connection_details"].clone();
    assert_eq!(details["tls_certificate"], cert.pem().as_str());
    assert!(details.get("private_key").is_none(), "{details}");
    assert!(!details.to_string().contains("PRIVATE KEY"));
}
