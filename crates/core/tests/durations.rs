//! Durations out of Go's range (`1e300`, `2^64`, `"9000000000000000000s"`)
//! on every kind of duration field are a 400 with a clear message, never a
//! panic, and nothing is stored (issue 12, parts 2 and 3).

mod support;

use coffer_types::Operation;
use serde_json::{Value, json};
use support::{Harness, error_text, status};

fn huge_values() -> Vec<Value> {
    vec![
        json!(1e300),
        serde_json::from_str("18446744073709551616").unwrap(),
        json!(u64::MAX),
        json!("9000000000000000000s"),
        json!("99999999999999h"),
    ]
}

async fn refused(h: &Harness, op: Operation, path: &str, body: Value) {
    let r = h.root(op, path, body.clone()).await;
    assert_eq!(status(&r), 400, "{path} {body}: {}", error_text(&r));
    assert!(
        error_text(&r).contains("duration") || error_text(&r).contains("out of range"),
        "{path} {body}: {}",
        error_text(&r)
    );
}

#[tokio::test]
async fn huge_durations_are_refused_everywhere() {
    let h = Harness::dev().await;
    h.enable("auth/approle", "approle").await;
    h.enable("auth/userpass", "userpass").await;
    h.enable("database", "database").await;
    for v in huge_values() {
        for field in ["ttl", "explicit_max_ttl", "period"] {
            refused(
                &h,
                Operation::Update,
                "auth/token/create",
                json!({ field: v }),
            )
            .await;
        }
        for field in ["default_lease_ttl", "max_lease_ttl"] {
            refused(
                &h,
                Operation::Update,
                "sys/mounts/other",
                json!({"type": "kv", "config": { field: v }}),
            )
            .await;
            refused(
                &h,
                Operation::Update,
                "sys/mounts/secret/tune",
                json!({ field: v }),
            )
            .await;
            refused(
                &h,
                Operation::Update,
                "sys/auth/approle/tune",
                json!({ field: v }),
            )
            .await;
        }
        refused(
            &h,
            Operation::Update,
            "secret/config",
            json!({"delete_version_after": v}),
        )
        .await;
        for field in [
            "token_ttl",
            "token_max_ttl",
            "secret_id_ttl",
            "token_period",
        ] {
            refused(
                &h,
                Operation::Update,
                "auth/approle/role/r",
                json!({ field: v }),
            )
            .await;
        }
        refused(
            &h,
            Operation::Update,
            "auth/userpass/users/u",
            json!({"password": "pw", "token_ttl": v}),
        )
        .await;
        refused(
            &h,
            Operation::Update,
            "auth/token/roles/r",
            json!({"token_explicit_max_ttl": v}),
        )
        .await;
        for field in [
            "rotation_period",
            "rotation_window",
            "max_connection_lifetime",
        ] {
            refused(
                &h,
                Operation::Update,
                "database/config/bad",
                json!({
                    "plugin_name": "postgresql-database-plugin",
                    "connection_url": "postgresql://u:p@127.0.0.1:1/x",
                    "verify_connection": false,
                    field: v,
                }),
            )
            .await;
        }
        for field in ["default_ttl", "max_ttl"] {
            refused(
                &h,
                Operation::Update,
                "database/roles/r",
                json!({"db_name": "bad", field: v}),
            )
            .await;
        }
    }
    // Nothing was created by the refused writes.
    for path in [
        "auth/approle/role/r",
        "auth/userpass/users/u",
        "auth/token/roles/r",
    ] {
        assert_eq!(
            status(&h.root(Operation::Read, path, json!({})).await),
            404,
            "{path}"
        );
    }
    let mounts = h
        .root(Operation::Read, "sys/mounts", json!({}))
        .await
        .unwrap();
    assert!(!mounts.data.unwrap().contains_key("other/"));
    let r = h
        .root(Operation::Read, "database/config/bad", json!({}))
        .await;
    assert_eq!(status(&r), 404, "{:?}", r.map(|r| r.data));
}

#[tokio::test]
async fn the_largest_duration_is_accepted_and_lists_still_work() {
    let h = Harness::dev().await;
    h.enable("database", "database").await;
    // The largest duration Go can hold: stored, and the rotation listing
    // (which prints the next run as RFC 3339) still answers.
    let r = h
        .root(
            Operation::Update,
            "database/config/far",
            json!({
                "plugin_name": "postgresql-database-plugin",
                "connection_url": "postgresql://u:p@127.0.0.1:1/x",
                "verify_connection": false,
                "rotation_period": "2562047h",
            }),
        )
        .await;
    assert!(r.is_ok(), "{}", error_text(&r));
    let list = h.root(Operation::List, "sys/rotation", json!({})).await;
    assert_eq!(status(&list), 200, "{}", error_text(&list));
    // A token with the largest explicit max TTL is created and looked up.
    let r = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"explicit_max_ttl": "2562047h", "ttl": "1h"}),
        )
        .await;
    assert!(r.is_ok(), "{}", error_text(&r));
}

#[tokio::test]
async fn a_short_root_rotation_period_is_refused() {
    let h = Harness::dev().await;
    h.enable("database", "database").await;
    for p in [json!(1.5), json!(4), json!("4s")] {
        let r = h
            .root(
                Operation::Update,
                "database/config/short",
                json!({
                    "plugin_name": "postgresql-database-plugin",
                    "connection_url": "postgresql://u:p@127.0.0.1:1/x",
                    "verify_connection": false,
                    "rotation_period": p,
                }),
            )
            .await;
        assert_eq!(status(&r), 400, "{p}");
        assert!(
            error_text(&r).contains("rotation_period must be 5 seconds or more"),
            "{}",
            error_text(&r)
        );
    }
}
