//! Cancelling a rekey or a root generation is unauthenticated in Vault, so
//! it needs the operation's nonce: without it anyone could cancel an
//! operator's work in progress (issue 12, part 5).

mod support;

use coffer_types::Operation;
use serde_json::json;
use support::{Harness, error_text, status};

#[tokio::test]
async fn cancelling_a_rekey_needs_its_nonce() {
    let h = Harness::dev().await;
    let started = h
        .call(
            None,
            Operation::Update,
            "sys/rekey/init",
            json!({"secret_shares": 1, "secret_threshold": 1}),
        )
        .await
        .unwrap();
    let nonce = started.raw.as_ref().unwrap()["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!nonce.is_empty());

    for body in [json!({}), json!({"nonce": ""}), json!({"nonce": "wrong"})] {
        let r = h
            .call(None, Operation::Delete, "sys/rekey/init", body.clone())
            .await;
        assert_eq!(status(&r), 400, "{body}: {}", error_text(&r));
        assert!(
            h.started("sys/rekey/init").await,
            "{body} cancelled the rekey"
        );
    }
    // The verification step cannot be reset without it either.
    let r = h
        .call(None, Operation::Delete, "sys/rekey/verify", json!({}))
        .await;
    assert_eq!(status(&r), 400);

    let r = h
        .call(
            None,
            Operation::Delete,
            "sys/rekey/init",
            json!({ "nonce": nonce }),
        )
        .await;
    assert!(r.is_ok(), "{}", error_text(&r));
    assert!(!h.started("sys/rekey/init").await);
}

#[tokio::test]
async fn cancelling_a_root_generation_needs_its_nonce() {
    let h = Harness::dev().await;
    let started = h
        .call(
            None,
            Operation::Update,
            "sys/generate-root/attempt",
            json!({}),
        )
        .await
        .unwrap();
    let nonce = started.raw.as_ref().unwrap()["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in [json!({}), json!({"nonce": "wrong"})] {
        let r = h
            .call(
                None,
                Operation::Delete,
                "sys/generate-root/attempt",
                body.clone(),
            )
            .await;
        assert_eq!(status(&r), 400, "{body}");
        assert!(
            h.started("sys/generate-root/attempt").await,
            "{body} cancelled the attempt"
        );
    }
    let r = h
        .call(
            None,
            Operation::Delete,
            "sys/generate-root/attempt",
            json!({ "nonce": nonce }),
        )
        .await;
    assert!(r.is_ok(), "{}", error_text(&r));
    assert!(!h.started("sys/generate-root/attempt").await);
}
