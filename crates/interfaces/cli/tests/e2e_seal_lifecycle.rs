//! End to end, production mode with TLS on 127.0.0.1:0 and redb storage:
//! init, unseal with 3 of 5 keys, write, seal, restart the process, unseal
//! with other keys, read back; rotate; rekey; generate-root; and the canary
//! secret never appears in the storage file or the server's output.

mod support;

use serde_json::{Value, json};
use support::{Api, ServerProcess, make_tls, unseal, write_config};

const CANARY: &str = "canary-7f3a9c1e-do-not-leak";

fn keys(init: &Value) -> Vec<String> {
    init["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

fn scan_dir_for(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(scan_dir_for(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_tls_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_tls(dir.path());
    let config = write_config(dir.path(), Some(&tls));
    let config_arg = format!("-config={}", config.display());
    let server = ServerProcess::start(&[&config_arg], dir.path(), true);
    let mut api = Api::new(&server.addr, Some(&tls.ca_pem));

    // Fresh server: uninitialised and sealed.
    let (status, body) = api.get("sys/seal-status").await;
    assert_eq!(status, 200);
    assert_eq!(body["initialized"], false);
    assert_eq!(body["sealed"], true);
    assert_eq!(api.get("sys/health").await.0, 501);
    assert_eq!(
        api.get("secret/data/x").await.0,
        503,
        "requests on an uninitialised server are refused"
    );

    // Bad init parameters change nothing.
    let (status, _) = api
        .put(
            "sys/init",
            json!({"secret_shares": 2, "secret_threshold": 3}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(api.get("sys/init").await.1["initialized"], false);

    let (status, init) = api
        .put(
            "sys/init",
            json!({"secret_shares": 5, "secret_threshold": 3}),
        )
        .await;
    assert_eq!(status, 200, "{init}");
    let keys = keys(&init);
    assert_eq!(keys.len(), 5);
    assert!(keys.iter().all(|k| k.len() == 66), "33-byte hex shares");
    let root = init["root_token"].as_str().unwrap().to_owned();
    assert!(root.starts_with("hvs.") && root.len() == 28);
    assert_eq!(
        api.put(
            "sys/init",
            json!({"secret_shares": 1, "secret_threshold": 1})
        )
        .await
        .0,
        400
    );
    assert_eq!(api.get("sys/health").await.0, 503);

    // Unseal with 3 of 5: progress is reported, then unsealed.
    let s = unseal(&api, &[&keys[0]]).await;
    assert_eq!(
        (
            s["sealed"].clone(),
            s["progress"].clone(),
            s["t"].clone(),
            s["n"].clone()
        ),
        (json!(true), json!(1), json!(3), json!(5))
    );
    let (status, _) = api.put("sys/unseal", json!({"key": keys[0]})).await;
    assert_eq!(status, 400, "the same share twice is refused");
    let s = unseal(&api, &[&keys[1], &keys[2]]).await;
    assert_eq!(s["sealed"], false);
    assert_eq!(api.get("sys/health").await.0, 200);

    // Production defaults: no secret/ mount; enable KV v2 and write a canary.
    api.token = Some(root.clone());
    let (_, mounts) = api.get("sys/mounts").await;
    assert!(mounts["data"].get("secret/").is_none());
    for m in ["cubbyhole/", "identity/", "sys/"] {
        assert!(mounts["data"].get(m).is_some(), "{m} missing");
    }
    let (status, body) = api
        .put(
            "sys/mounts/secret",
            json!({"type": "kv", "options": {"version": "2"}}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = api
        .put("secret/data/app", json!({"data": {"password": CANARY}}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["version"], 1);

    // Seal: everything but the status endpoints is refused.
    assert_eq!(api.put("sys/seal", json!({})).await.0, 204);
    assert_eq!(api.get("secret/data/app").await.0, 503);

    // Kill -9 and restart: sealed again; unseal with three other keys; data is back.
    drop(api);
    let first_output = server.kill();
    let server = ServerProcess::start(&[&config_arg], dir.path(), true);
    let mut api = Api::new(&server.addr, Some(&tls.ca_pem));
    let (_, status) = api.get("sys/seal-status").await;
    assert_eq!(
        (status["initialized"].clone(), status["sealed"].clone()),
        (json!(true), json!(true))
    );
    let s = unseal(&api, &[&keys[4], &keys[3], &keys[1]]).await;
    assert_eq!(s["sealed"], false);
    api.token = Some(root.clone());
    let (status, body) = api.get("secret/data/app").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"]["password"], CANARY);

    // A write acknowledged right before kill -9 survives.
    assert_eq!(
        api.put("secret/data/durable", json!({"data": {"v": "1"}}))
            .await
            .0,
        200
    );
    drop(api);
    let second_output = server.kill();
    let server = ServerProcess::start(&[&config_arg], dir.path(), true);
    let mut api = Api::new(&server.addr, Some(&tls.ca_pem));
    unseal(&api, &[&keys[0], &keys[1], &keys[2]]).await;
    api.token = Some(root.clone());
    assert_eq!(
        api.get("secret/data/durable").await.1["data"]["data"]["v"],
        "1"
    );

    // Rotate: a new key term; old data still readable; new data written.
    let (_, ks) = api.get("sys/key-status").await;
    assert_eq!(ks["data"]["term"], 1);
    assert_eq!(api.put("sys/rotate", json!({})).await.0, 204);
    assert_eq!(api.get("sys/key-status").await.1["data"]["term"], 2);
    assert_eq!(
        api.get("secret/data/app").await.1["data"]["data"]["password"],
        CANARY
    );
    assert_eq!(
        api.put("secret/data/after-rotate", json!({"data": {"k": "v"}}))
            .await
            .0,
        200
    );

    // Rekey to 3 shares / threshold 2 with verification.
    let (status, started) = api
        .put(
            "sys/rekey/init",
            json!({"secret_shares": 3, "secret_threshold": 2, "require_verification": true}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let nonce = started["nonce"].as_str().unwrap().to_owned();
    assert_eq!(
        api.put(
            "sys/rekey/update",
            json!({"key": keys[0], "nonce": "wrong"})
        )
        .await
        .0,
        400
    );
    let mut done = Value::Null;
    for k in &keys[0..3] {
        let (status, body) = api
            .put("sys/rekey/update", json!({"key": k, "nonce": nonce}))
            .await;
        assert_eq!(status, 200, "{body}");
        done = body;
    }
    assert_eq!(done["complete"], true);
    assert_eq!(done["verification_required"], true);
    let new_keys: Vec<String> = done["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(new_keys.len(), 3);
    let vnonce = done["verification_nonce"].as_str().unwrap().to_owned();
    // Until verified, the old keys are still the ones that unseal.
    let mut verified = Value::Null;
    for k in &new_keys[0..2] {
        let (status, body) = api
            .put("sys/rekey/verify", json!({"key": k, "nonce": vnonce}))
            .await;
        assert_eq!(status, 200, "{body}");
        verified = body;
    }
    assert_eq!(verified["complete"], true);
    assert_eq!(api.put("sys/seal", json!({})).await.0, 204);
    // Two old shares now make a wrong key: refused, progress reset.
    assert_eq!(unseal(&api, &[&keys[3]]).await["progress"], 1);
    let (status, body) = api.put("sys/unseal", json!({"key": keys[4]})).await;
    assert_eq!(
        status, 400,
        "old shares must not unseal after rekey: {body}"
    );
    assert_eq!(api.get("sys/seal-status").await.1["progress"], 0);
    let s = unseal(&api, &[&new_keys[2], &new_keys[0]]).await;
    assert_eq!(s["sealed"], false, "new keys unseal: {s}");
    assert_eq!((s["t"].clone(), s["n"].clone()), (json!(2), json!(3)));

    // Generate a new root token with the OTP flow.
    let (status, attempt) = api.put("sys/generate-root/attempt", json!({})).await;
    assert_eq!(status, 200, "{attempt}");
    let otp = attempt["otp"].as_str().unwrap().to_owned();
    let gnonce = attempt["nonce"].as_str().unwrap().to_owned();
    let mut last = Value::Null;
    for k in &new_keys[0..2] {
        let (status, body) = api
            .put(
                "sys/generate-root/update",
                json!({"key": k, "nonce": gnonce}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        last = body;
    }
    assert_eq!(last["complete"], true);
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(last["encoded_token"].as_str().unwrap())
        .unwrap();
    let new_root: String = encoded
        .iter()
        .zip(otp.as_bytes())
        .map(|(a, b)| (a ^ b) as char)
        .collect();
    assert!(new_root.starts_with("hvs."));
    api.token = Some(new_root);
    let (status, me) = api.get("auth/token/lookup-self").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["policies"], json!(["root"]));

    // The canary never reached the storage file or the server's output in clear.
    let last_output = server.kill();
    assert!(
        scan_dir_for(dir.path(), CANARY.as_bytes()).is_empty(),
        "canary found on disk"
    );
    for out in [&first_output, &second_output, &last_output] {
        assert!(!out.contains(CANARY), "canary in server output");
        assert!(!out.contains(&root), "root token in server output");
    }
}
