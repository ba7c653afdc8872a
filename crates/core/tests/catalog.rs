//! The core mounts what the catalog in its configuration lists, and nothing
//! else: the default catalog knows only the core's own singletons, the
//! builtin catalog adds the engines (with Vault's aliases), and a revoked
//! token's cubbyhole is wiped through the backend mounted at `cubbyhole/`.

mod support;

use std::sync::Arc;

use coffer_storage::{MemoryStorage, Prefix, Storage, list_recursive};
use coffer_types::Operation;
use serde_json::{Value, json};
use support::{Harness, error_text, status};

/// The mount entry at `path` in `sys/mounts` (or `sys/auth`).
async fn mount_entry(h: &Harness, table: &str, path: &str) -> Value {
    let resp = h.root(Operation::Read, table, json!({})).await.unwrap();
    resp.data.unwrap()[path].clone()
}

#[tokio::test]
async fn the_default_catalog_knows_only_the_cores_singletons() {
    let h = Harness::dev_with(
        Arc::new(MemoryStorage::new()),
        coffer_core::CoreConfig::default().catalog,
    )
    .await;
    let cases = [
        ("sys/mounts/k", "kv", "plugin not found in the catalog: kv"),
        (
            "sys/auth/up",
            "userpass",
            "plugin not found in the catalog: userpass",
        ),
        (
            "sys/mounts/s",
            "system",
            "mount type of \"system\" is not mountable",
        ),
        (
            "sys/mounts/i",
            "identity",
            "mount type of \"identity\" is not mountable",
        ),
        (
            "sys/auth/t",
            "token",
            "token credential backend cannot be instantiated",
        ),
    ];
    for (path, kind, text) in cases {
        let r = h
            .root(Operation::Update, path, json!({ "type": kind }))
            .await;
        assert_eq!(status(&r), 400, "{kind}");
        assert!(error_text(&r).contains(text), "{kind}: {}", error_text(&r));
    }
    // The default mounts the catalog cannot build (the dev kv at secret/,
    // cubbyhole/) stay in the table and answer with an error.
    assert_eq!(
        mount_entry(&h, "sys/mounts", "cubbyhole/").await["type"],
        "cubbyhole"
    );
    for path in ["secret/data/x", "cubbyhole/x"] {
        let r = h.root(Operation::Read, path, json!({})).await;
        assert_eq!(status(&r), 500, "{path}");
        assert!(
            error_text(&r).contains("is not in this server's catalog"),
            "{path}"
        );
    }
    // The core's own backends work, and so does revoking a token.
    let token = h
        .root(Operation::Update, "auth/token/create", json!({}))
        .await
        .unwrap()
        .auth
        .unwrap()
        .client_token;
    h.root(
        Operation::Update,
        "auth/token/revoke",
        json!({ "token": token }),
    )
    .await
    .unwrap();
    assert_eq!(
        status(
            &h.call(
                Some(&token),
                Operation::Read,
                "auth/token/lookup-self",
                json!({})
            )
            .await
        ),
        403
    );
}

#[tokio::test]
async fn generic_is_kv_version_1_under_its_own_name() {
    let h = Harness::dev().await;
    h.enable("old", "generic").await;
    let entry = mount_entry(&h, "sys/mounts", "old/").await;
    assert_eq!(entry["type"], "generic");
    assert_eq!(entry["options"], Value::Null);
    assert!(entry["accessor"].as_str().unwrap().starts_with("generic_"));
    // KV version 1: the whole body at the path, no data/ wrapper.
    h.root(Operation::Update, "old/app", json!({"k": "v"}))
        .await
        .unwrap();
    let read = h.root(Operation::Read, "old/app", json!({})).await.unwrap();
    assert_eq!(read.data.unwrap()["k"], "v");
    // Vault refuses a version for generic, and this server refuses to
    // change a KV mount's version in place.
    let r = h
        .root(
            Operation::Update,
            "sys/mounts/other",
            json!({"type": "generic", "options": {"version": "2"}}),
        )
        .await;
    assert_eq!(status(&r), 400);
    assert!(error_text(&r).contains("secrets engine \"generic\" does not allow setting a version"));
    let r = h
        .root(
            Operation::Update,
            "sys/mounts/old/tune",
            json!({"options": {"version": "2"}}),
        )
        .await;
    assert_eq!(status(&r), 400);
    assert!(error_text(&r).contains("changing the KV version"));
    // kv-v2 is still recorded as kv with version 2.
    h.enable("v2", "kv-v2").await;
    let entry = mount_entry(&h, "sys/mounts", "v2/").await;
    assert_eq!(entry["type"], "kv");
    assert_eq!(entry["options"], json!({"version": "2"}));
}

#[tokio::test]
async fn revoking_a_token_wipes_its_cubbyhole_in_storage() {
    let physical = Arc::new(MemoryStorage::new());
    let h = Harness::dev_with(physical.clone(), coffer_builtins::catalog()).await;
    let uuid = mount_entry(&h, "sys/mounts", "cubbyhole/").await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let cubby = Prefix::new(format!("logical/{uuid}/")).unwrap();
    let stored = || async {
        let all = list_recursive(physical.as_ref() as &dyn Storage, &cubby)
            .await
            .unwrap();
        all.len()
    };
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let t = h
            .root(Operation::Update, "auth/token/create", json!({}))
            .await
            .unwrap()
            .auth
            .unwrap()
            .client_token;
        for path in ["cubbyhole/a", "cubbyhole/b/c", "cubbyhole/b/d"] {
            h.call(Some(&t), Operation::Update, path, json!({"k": "v"}))
                .await
                .unwrap();
        }
        tokens.push(t);
    }
    assert_eq!(stored().await, 6);
    h.root(
        Operation::Update,
        "auth/token/revoke",
        json!({ "token": tokens[0] }),
    )
    .await
    .unwrap();
    assert_eq!(stored().await, 3);
    let kept = h
        .call(
            Some(&tokens[1]),
            Operation::Read,
            "cubbyhole/b/c",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(kept.data.unwrap()["k"], "v");
}
