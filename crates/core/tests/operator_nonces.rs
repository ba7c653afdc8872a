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

/// Current Vault still accepts an `otp` from the client at
/// `PUT sys/generate-root/attempt` (the CLI's `-init -otp=`): any string of
/// exactly `otp_length` bytes, checked before the attempt-in-progress check;
/// the response then shows no OTP, and the final token is the unpadded
/// base64 of the token XOR that OTP.
#[tokio::test]
async fn a_client_supplied_otp_encodes_the_new_root_token() {
    use base64::Engine as _;
    use coffer_types::Request;

    let core = coffer_core::Core::new(
        std::sync::Arc::new(coffer_storage::MemoryStorage::new()),
        coffer_core::CoreConfig {
            catalog: coffer_builtins::catalog(),
            ..coffer_core::CoreConfig::default()
        },
    );
    let init = core.dev_init(None).await.unwrap();
    let call = |op: Operation, path: &str, body: serde_json::Value, token: Option<&str>| {
        let mut req =
            Request::new(op, path).with_data(body.as_object().cloned().unwrap_or_default());
        if let Some(t) = token {
            req = req.with_token(t);
        }
        core.handle(req)
    };
    const ATTEMPT: &str = "sys/generate-root/attempt";
    let started = async || {
        call(Operation::Read, ATTEMPT, json!({}), None)
            .await
            .unwrap()
            .raw
            .unwrap()
    };

    // 28 bytes but 27 characters: the length is counted in bytes, as Vault's.
    let otp = format!("é{}", "0123456789abcdefghijklmnop");
    assert_eq!((otp.len(), otp.chars().count()), (28, 27));
    for wrong in ["short", &otp[2..], &format!("{otp}x")] {
        let r = call(Operation::Update, ATTEMPT, json!({"otp": wrong}), None).await;
        assert_eq!(status(&r), 400, "{wrong}");
        assert!(
            error_text(&r).contains("OTP string is wrong length"),
            "{}",
            error_text(&r)
        );
    }
    let r = call(Operation::Update, ATTEMPT, json!({"pgp_key": "abc"}), None).await;
    assert_eq!(status(&r), 400, "{}", error_text(&r));
    assert_eq!(started().await["started"], json!(false));

    // A valid OTP wins over a pgp_key given with it, and is not echoed.
    let r = call(
        Operation::Update,
        ATTEMPT,
        json!({"otp": otp, "pgp_key": "abc"}),
        None,
    )
    .await;
    assert!(r.is_ok(), "{}", error_text(&r));
    let body = r.unwrap().raw.unwrap();
    assert_eq!(body["started"], json!(true));
    assert_eq!(body["otp"], json!(""));
    assert_eq!(body["otp_length"], json!(28));
    let nonce = body["nonce"].as_str().unwrap().to_owned();
    let status_body = started().await;
    assert_eq!(status_body["otp"], json!(""), "{status_body}");

    // While it runs: a bad OTP is still reported as such, a good one is
    // refused because an attempt is in progress.
    let r = call(Operation::Update, ATTEMPT, json!({"otp": "x"}), None).await;
    assert!(
        error_text(&r).contains("wrong length"),
        "{}",
        error_text(&r)
    );
    let r = call(Operation::Update, ATTEMPT, json!({"otp": otp}), None).await;
    assert!(
        error_text(&r).contains("already in progress"),
        "{}",
        error_text(&r)
    );

    let done = call(
        Operation::Update,
        "sys/generate-root/update",
        json!({"key": init.keys[0].expose(), "nonce": nonce}),
        None,
    )
    .await
    .unwrap()
    .raw
    .unwrap();
    assert_eq!(done["complete"], json!(true), "{done}");
    assert_eq!(done["encoded_token"], done["encoded_root_token"]);
    let encoded = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(done["encoded_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(encoded.len(), 28);
    let token: Vec<u8> = encoded
        .iter()
        .zip(otp.as_bytes())
        .map(|(a, b)| a ^ b)
        .collect();
    let token = String::from_utf8(token).unwrap();
    assert!(token.starts_with("hvs.") && token != init.root_token.expose());
    let me = call(
        Operation::Read,
        "auth/token/lookup-self",
        json!({}),
        Some(&token),
    )
    .await
    .unwrap();
    assert_eq!(me.data.unwrap()["policies"], json!(["root"]));
}
