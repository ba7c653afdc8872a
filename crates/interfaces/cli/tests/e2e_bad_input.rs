//! Bad input over real HTTP gets a 4xx in Vault's error shape, never a 500,
//! and changes nothing.

mod support;

use serde_json::json;
use support::{Api, ServerProcess};

const ROOT: &str = "bad-input-root";

fn errors_shape(body: &serde_json::Value) -> bool {
    body.get("errors").is_some_and(|e| e.is_array())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_rejected_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &[
            "-dev",
            "-dev-listen-address=127.0.0.1:0",
            &format!("-dev-root-token-id={ROOT}"),
        ],
        home.path(),
        false,
    );
    let mut api = Api::new(&server.addr, None);

    // No token, or a wrong one: 403.
    let (status, body) = api.get("secret/data/x").await;
    assert_eq!(status, 403);
    assert!(errors_shape(&body));
    api.token = Some("hvs.wrongAAAAAAAAAAAAAAAAAAA".into());
    assert_eq!(api.get("secret/data/x").await.0, 403);
    api.token = Some(ROOT.into());

    // Malformed JSON and non-object bodies: 400, nothing written.
    for raw in [&b"{not json"[..], b"[1,2,3]", b"\"str\"", b"{\"data\": "] {
        let (status, body) = api.put_raw("secret/data/bad", raw.to_vec()).await;
        assert_eq!(status, 400, "{body}");
        assert!(errors_shape(&body));
    }
    assert_eq!(api.get("secret/data/bad").await.0, 404);

    // Wrong field types.
    let (status, body) = api
        .put(
            "secret/data/typed",
            json!({"data": {"a": "b"}, "options": {"cas": "abc"}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(api.get("secret/data/typed").await.0, 404);
    let (status, _) = api.put("sys/mounts/x", json!({"type": ["kv"]})).await;
    assert_eq!(status, 400);

    // Unknown mount type; mount conflicts.
    let (status, body) = api
        .put("sys/mounts/new", json!({"type": "no-such-engine"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("no-such-engine")
    );
    assert!(api.get("sys/mounts").await.1["data"].get("new/").is_none());
    let (status, body) = api
        .put("sys/mounts/secret/inner", json!({"type": "kv"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0], "path is already in use at secret/");
    assert_eq!(
        api.put("sys/mounts/sys/x", json!({"type": "kv"})).await.0,
        400
    );

    // Invalid HCL policy: 400 naming the line.
    let (status, body) = api
        .put(
            "sys/policies/acl/broken",
            json!({"policy": "path \"a\" {\n  capabilities = [\"read\"\n"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0].as_str().unwrap().contains("line"),
        "{body}"
    );
    assert_eq!(api.get("sys/policies/acl/broken").await.0, 404);

    // Path traversal and NUL: 400.
    for target in [
        "/v1/secret/data/../../sys/mounts",
        "/v1/secret/data/%2e%2e/%2e%2e/sys/mounts",
        "/v1/secret/data/a%00b",
        "/v1/secret/data/%ff",
    ] {
        assert_eq!(
            support::raw_status(&server.addr, "GET", target, ROOT),
            400,
            "{target}"
        );
    }

    // Oversize body: 413, and the server keeps serving.
    let big = vec![b'a'; 33 * 1024 * 1024];
    let mut body = b"{\"data\":{\"x\":\"".to_vec();
    body.extend_from_slice(&big);
    body.extend_from_slice(b"\"}}");
    let (status, _) = api.put_raw("secret/data/big", body).await;
    assert_eq!(status, 413);

    // Unknown paths and methods.
    assert_eq!(api.get("nope/x").await.0, 404);
    assert_eq!(api.call("TRACE", "secret/data/x", None).await.0, 405);

    // Sealed: 503 for everything but the status endpoints.
    assert_eq!(api.put("sys/seal", json!({})).await.0, 204);
    assert_eq!(api.get("secret/data/x").await.0, 503);
    assert_eq!(api.get("sys/seal-status").await.0, 200);

    let output = server.kill();
    assert!(!output.contains("panicked"), "server panicked:\n{output}");
}
