//! `sys/internal/specs/openapi` without a token: as in Vault, the path is
//! unauthenticated and the document then lists only the mounts whose
//! listing visibility is `unauth` (`sys/` included only if so tuned). With
//! a token the document still follows the token's policies, and while
//! sealed the path answers 503 either way.

mod support;

use coffer_types::{Operation, Response};
use serde_json::{Value, json};
use support::{Harness, error_text, status};

const PATH: &str = "sys/internal/specs/openapi";

/// The document's path keys.
fn path_keys(r: Response) -> Vec<String> {
    let doc = r.raw.expect("the document is a raw body");
    assert_eq!(doc["openapi"], "3.0.2");
    doc["paths"]
        .as_object()
        .expect("paths is an object")
        .keys()
        .cloned()
        .collect()
}

/// A dev core with `pub/` (kv v2, tuned `unauth`) and `priv/` (kv v2, left
/// hidden) mounted.
async fn harness() -> Harness {
    let h = Harness::dev().await;
    h.root(
        Operation::Update,
        "sys/mounts/pub",
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await
    .unwrap();
    h.root(
        Operation::Update,
        "sys/mounts/priv",
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await
    .unwrap();
    let r = h
        .root(
            Operation::Update,
            "sys/mounts/pub/tune",
            json!({"listing_visibility": "unauth"}),
        )
        .await;
    assert!(r.is_ok(), "{}", error_text(&r));
    h
}

#[tokio::test]
async fn without_a_token_only_unauth_mounts_are_listed() {
    let h = harness().await;
    let r = h.call(None, Operation::Read, PATH, Value::Null).await;
    assert_eq!(status(&r), 200, "{}", error_text(&r));
    let keys = path_keys(r.unwrap());
    assert!(
        keys.iter().any(|k| k == "/pub/data/{path}"),
        "the unauth mount's paths are missing: {keys:?}"
    );
    assert!(
        keys.iter().all(|k| k.starts_with("/pub/")),
        "only the unauth mount may be listed: {keys:?}"
    );

    // An empty token is no token.
    let r = h.call(Some(""), Operation::Read, PATH, Value::Null).await;
    assert_eq!(status(&r), 200, "{}", error_text(&r));
    assert!(keys_all_under(r.unwrap(), "/pub/"));
}

fn keys_all_under(r: Response, prefix: &str) -> bool {
    let keys = path_keys(r);
    !keys.is_empty() && keys.iter().all(|k| k.starts_with(prefix))
}

#[tokio::test]
async fn without_a_token_and_no_unauth_mount_the_document_is_empty() {
    let h = Harness::dev().await;
    let r = h.call(None, Operation::Read, PATH, Value::Null).await;
    assert_eq!(status(&r), 200, "{}", error_text(&r));
    assert!(path_keys(r.unwrap()).is_empty());
}

#[tokio::test]
async fn sys_is_listed_without_a_token_only_when_tuned_unauth() {
    let h = harness().await;
    let r = h
        .root(
            Operation::Update,
            "sys/mounts/sys/tune",
            json!({"listing_visibility": "unauth"}),
        )
        .await;
    assert!(r.is_ok(), "{}", error_text(&r));
    let r = h.call(None, Operation::Read, PATH, Value::Null).await;
    let keys = path_keys(r.unwrap());
    assert!(keys.iter().any(|k| k == "/sys/mounts/{path}"), "{keys:?}");
    assert!(!keys.iter().any(|k| k.starts_with("/priv/")), "{keys:?}");
}

#[tokio::test]
async fn without_a_token_other_methods_are_refused() {
    let h = harness().await;
    let r = h.call(None, Operation::Update, PATH, json!({})).await;
    assert_eq!(status(&r), 405, "{}", error_text(&r));
}

#[tokio::test]
async fn with_a_token_the_policies_decide() {
    let h = harness().await;
    let r = h.root(Operation::Read, PATH, Value::Null).await;
    assert_eq!(status(&r), 200, "{}", error_text(&r));
    let keys = path_keys(r.unwrap());
    for key in [
        "/pub/data/{path}",
        "/priv/data/{path}",
        "/sys/mounts/{path}",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing: {keys:?}");
    }
    // KV v2's catch-all answers Vault's refusals but, as in Vault, is not
    // published.
    assert!(!keys.iter().any(|k| k == "/pub/{path}"), "{keys:?}");

    // A token whose policies reach only `priv/` sees `priv/`, not `pub/`:
    // the visibility filter is for tokenless requests only.
    h.root(
        Operation::Update,
        "sys/policies/acl/priv-reader",
        json!({"policy": r#"path "priv/data/*" { capabilities = ["read"] }"#}),
    )
    .await
    .unwrap();
    let token = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"policies": ["priv-reader"]}),
        )
        .await
        .unwrap()
        .auth
        .unwrap()
        .client_token;
    let r = h
        .call(Some(&token), Operation::Read, PATH, Value::Null)
        .await;
    assert_eq!(status(&r), 200, "{}", error_text(&r));
    let keys = path_keys(r.unwrap());
    assert!(keys.iter().any(|k| k == "/priv/data/{path}"), "{keys:?}");
    assert!(!keys.iter().any(|k| k.starts_with("/pub/")), "{keys:?}");

    // An unknown token is refused, not treated as none.
    let r = h
        .call(Some("not-a-token"), Operation::Read, PATH, Value::Null)
        .await;
    assert_eq!(status(&r), 403, "{}", error_text(&r));
}

#[tokio::test]
async fn sealed_answers_503_with_or_without_a_token() {
    let h = harness().await;
    let r = h.root(Operation::Update, "sys/seal", json!({})).await;
    assert!(r.is_ok(), "{}", error_text(&r));
    let r = h.call(None, Operation::Read, PATH, Value::Null).await;
    assert_eq!(status(&r), 503, "{}", error_text(&r));
    let root = h.root.clone();
    let r = h
        .call(Some(&root), Operation::Read, PATH, Value::Null)
        .await;
    assert_eq!(status(&r), 503, "{}", error_text(&r));
}
