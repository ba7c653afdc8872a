//! `sys/internal/ui/resultant-acl`: a token reads its own merged ACL in
//! Vault's shape. The path is ACL-checked as in Vault (the `default`
//! policy grants `read` on it), so no token, or a token without `default`,
//! is refused with 403.

mod support;

use coffer_types::Operation;
use serde_json::{Value, json};
use support::{Harness, error_text, status};

const PATH: &str = "sys/internal/ui/resultant-acl";

async fn token(h: &Harness, body: Value) -> String {
    let r = h
        .root(Operation::Update, "auth/token/create", body)
        .await
        .unwrap();
    r.auth.unwrap().client_token
}

#[tokio::test]
async fn a_token_sees_its_merged_exact_and_glob_paths() {
    let h = Harness::dev().await;
    let policy = r#"
        path "secret/data/app" {
          capabilities = ["update", "read"]
          allowed_parameters = { "colour" = ["red", "blue"] }
          max_wrapping_ttl = "10m"
        }
        path "secret/metadata/*" { capabilities = ["list"] }
        path "secret/+/team" { capabilities = ["read"] }
    "#;
    h.root(
        Operation::Update,
        "sys/policies/acl/two",
        json!({ "policy": policy }),
    )
    .await
    .unwrap();
    let t = token(&h, json!({"policies": ["two"]})).await;

    let r = h.call(Some(&t), Operation::Read, PATH, json!({})).await;
    assert_eq!(status(&r), 200, "{}", error_text(&r));
    let data = Value::Object(r.unwrap().data.unwrap());
    assert_eq!(data["root"], json!(false));
    assert_eq!(
        data["exact_paths"]["secret/data/app"],
        json!({
            "capabilities": ["read", "update"],
            "allowed_parameters": {"colour": ["red", "blue"]},
            "max_wrapping_ttl": 600,
        })
    );
    assert_eq!(
        data["glob_paths"]["secret/metadata/"],
        json!({"capabilities": ["list"]})
    );
    // The default policy is part of the token's ACL, this path included.
    assert_eq!(data["exact_paths"][PATH], json!({"capabilities": ["read"]}));
    assert_eq!(
        data["glob_paths"]["cubbyhole/"]["capabilities"],
        json!(["create", "delete", "list", "read", "update"])
    );
    // Vault reports neither map's `+` patterns.
    let all = data.to_string();
    assert!(!all.contains("secret/+/team"), "{all}");

    // Writing is not granted, and not an operation of this path even for root.
    let r = h.call(Some(&t), Operation::Update, PATH, json!({})).await;
    assert_eq!(status(&r), 403, "{}", error_text(&r));
    let r = h.root(Operation::Update, PATH, json!({})).await;
    assert_eq!(status(&r), 405, "{}", error_text(&r));
}

#[tokio::test]
async fn root_sees_root_and_no_token_is_refused() {
    let h = Harness::dev().await;
    let r = h.root(Operation::Read, PATH, json!({})).await.unwrap();
    assert_eq!(r.data.unwrap(), *json!({"root": true}).as_object().unwrap());

    let r = h.call(None, Operation::Read, PATH, json!({})).await;
    assert_eq!(status(&r), 403, "{}", error_text(&r));
    let r = h
        .call(Some("hvs.not-a-token"), Operation::Read, PATH, json!({}))
        .await;
    assert_eq!(status(&r), 403, "{}", error_text(&r));

    // Without the default policy nothing grants the path, as in Vault.
    h.root(
        Operation::Update,
        "sys/policies/acl/only",
        json!({ "policy": r#"path "kv/x" { capabilities = ["read"] }"# }),
    )
    .await
    .unwrap();
    let t = token(&h, json!({"policies": ["only"], "no_default_policy": true})).await;
    let r = h.call(Some(&t), Operation::Read, PATH, json!({})).await;
    assert_eq!(status(&r), 403, "{}", error_text(&r));
}
