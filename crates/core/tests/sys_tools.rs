//! `sys/tools/*`, `sys/host-info`, `sys/version-history` and
//! `sys/plugins/catalog*` through the real core's pipeline: routing to the
//! sys piece, the ACL, and `sudo` on `sys/plugins/catalog/*` as Vault
//! requires it.

mod support;

use base64::Engine as _;
use coffer_types::Operation;
use serde_json::{Value, json};
use support::{Harness, status};

fn data(resp: coffer_types::Response) -> serde_json::Map<String, Value> {
    resp.data.expect("response data")
}

#[tokio::test]
async fn tools_random_and_hash() {
    let h = Harness::dev().await;
    let r = data(
        h.root(
            Operation::Update,
            "sys/tools/random/164",
            json!({"format": "hex"}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(r["random_bytes"].as_str().unwrap().len(), 328);
    let r = data(
        h.root(Operation::Update, "sys/tools/random", json!({}))
            .await
            .unwrap(),
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(r["random_bytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes.len(), 32);
    let too_many = h
        .root(Operation::Update, "sys/tools/random/131073", json!({}))
        .await;
    assert_eq!(status(&too_many), 400);

    let abc = base64::engine::general_purpose::STANDARD.encode("abc");
    let r = data(
        h.root(
            Operation::Update,
            "sys/tools/hash/sha2-512",
            json!({ "input": abc }),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        r["sum"],
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    );
    let bad = h
        .root(
            Operation::Update,
            "sys/tools/hash",
            json!({ "input": abc, "algorithm": "sha3-224" }),
        )
        .await;
    assert_eq!(status(&bad), 400);
    assert!(support::error_text(&bad).contains("unsupported algorithm sha3-224"));
    // A GET of a POST-only tool is a 405.
    let read = h.root(Operation::Read, "sys/tools/hash", json!({})).await;
    assert_eq!(status(&read), 405);
}

#[tokio::test]
async fn host_info_and_version_history() {
    let h = Harness::dev().await;
    let info = data(
        h.root(Operation::Read, "sys/host-info", json!({}))
            .await
            .unwrap(),
    );
    assert!(info.contains_key("timestamp"));
    if cfg!(target_os = "linux") {
        for key in ["cpu", "cpu_times", "disk", "host", "memory"] {
            assert!(info.contains_key(key), "{key}");
        }
        assert!(!info["host"]["hostname"].as_str().unwrap().is_empty());
    }

    let history = data(
        h.root(Operation::List, "sys/version-history", json!({}))
            .await
            .unwrap(),
    );
    let keys = history["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{history:?}");
    let version = keys[0].as_str().unwrap();
    assert!(version.ends_with("+coffer"), "{version}");
    let entry = &history["key_info"][version];
    assert_eq!(entry["previous_version"], Value::Null);
    assert!(
        entry["timestamp_installed"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(!entry["build_date"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn plugin_catalog_and_sudo() {
    let h = Harness::dev().await;
    let all = data(
        h.root(Operation::Read, "sys/plugins/catalog", json!({}))
            .await
            .unwrap(),
    );
    assert_eq!(all["auth"], json!(["approle", "userpass"]));
    assert_eq!(all["secret"], json!(["database", "generic", "kv", "kv-v2"]));
    assert_eq!(
        all["database"],
        json!([
            "mysql-aurora-database-plugin",
            "mysql-database-plugin",
            "mysql-legacy-database-plugin",
            "mysql-rds-database-plugin",
            "postgresql-database-plugin",
            "redis-database-plugin"
        ])
    );
    assert_eq!(all["detailed"].as_array().unwrap().len(), 12);

    let auth = data(
        h.root(Operation::List, "sys/plugins/catalog/auth", json!({}))
            .await
            .unwrap(),
    );
    assert_eq!(auth["keys"], json!(["approle", "userpass"]));
    let kv = data(
        h.root(Operation::Read, "sys/plugins/catalog/secret/kv", json!({}))
            .await
            .unwrap(),
    );
    assert_eq!(
        (kv["name"].clone(), kv["builtin"].clone()),
        (json!("kv"), json!(true))
    );
    let unknown = h
        .root(
            Operation::Read,
            "sys/plugins/catalog/secret/nope",
            json!({}),
        )
        .await;
    assert_eq!(status(&unknown), 404);
    let register = h
        .root(
            Operation::Update,
            "sys/plugins/catalog/secret/my-plugin",
            json!({"sha256": "d130b9a0", "command": "my-plugin"}),
        )
        .await;
    assert_eq!(status(&register), 400);
    assert!(support::error_text(&register).contains("builtin plugins only"));

    // A token with every capability but sudo: the catalog overview and the
    // tools answer; the sudo paths under plugins/catalog/ do not.
    let everything = "capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"]";
    let policy = format!(
        "path \"sys/plugins/catalog\" {{ {everything} }}\n\
         path \"sys/plugins/catalog/*\" {{ {everything} }}\n\
         path \"sys/tools/*\" {{ {everything} }}\n\
         path \"sys/host-info\" {{ {everything} }}\n\
         path \"sys/version-history/\" {{ {everything} }}\n\
         path \"sys/plugins/catalog/secret/kv\" {{ capabilities = [\"read\", \"sudo\"] }}\n"
    );
    h.root(
        Operation::Update,
        "sys/policies/acl/no-sudo",
        json!({ "policy": policy }),
    )
    .await
    .unwrap();
    let token = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"policies": ["no-sudo"]}),
        )
        .await
        .unwrap()
        .auth
        .unwrap()
        .client_token;
    let as_user = |op, path: &'static str| {
        let token = token.clone();
        let h = &h;
        async move { status(&h.call(Some(&token), op, path, json!({})).await) }
    };
    assert_eq!(as_user(Operation::Read, "sys/plugins/catalog").await, 200);
    assert_eq!(as_user(Operation::Update, "sys/tools/random").await, 200);
    assert_eq!(as_user(Operation::Read, "sys/host-info").await, 200);
    assert_eq!(as_user(Operation::List, "sys/version-history").await, 200);
    assert_eq!(
        as_user(Operation::List, "sys/plugins/catalog/auth").await,
        403
    );
    assert_eq!(
        as_user(Operation::Read, "sys/plugins/catalog/auth/userpass").await,
        403
    );
    assert_eq!(
        as_user(Operation::Update, "sys/plugins/catalog/secret/x").await,
        403
    );
    // With sudo granted on the exact path, the read goes through.
    assert_eq!(
        as_user(Operation::Read, "sys/plugins/catalog/secret/kv").await,
        200
    );
    // Without a policy on the path at all: denied before anything else.
    assert_eq!(
        status(
            &h.call(
                Some(&token),
                Operation::Update,
                "sys/mounts/x",
                json!({"type": "kv"})
            )
            .await
        ),
        403
    );
}
