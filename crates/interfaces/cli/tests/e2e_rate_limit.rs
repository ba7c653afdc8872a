//! Rate-limit quotas over real HTTP: 429 in Vault's error shape with a
//! `Retry-After` header, per client, exempt status endpoints.

mod support;

use serde_json::json;
use support::{Api, ServerProcess};

const ROOT: &str = "rate-limit-root";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_answers_429_with_retry_after() {
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
    api.token = Some(ROOT.into());
    let (status, body) = api
        .put(
            "sys/quotas/rate-limit/tight",
            json!({"path": "secret/", "rate": 1, "interval": "1m", "block_interval": "2m"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(api.get("secret/data/x").await.0, 404);
    let http = reqwest::Client::new();
    let resp = http
        .get(format!("{}/v1/secret/data/x", server.addr))
        .header("X-Vault-Token", ROOT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=120).contains(&retry), "Retry-After {retry}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["errors"][0],
        "request path \"secret/data/x\": rate limit quota exceeded"
    );
    // Status endpoints are exempt; other mounts are not limited by this quota.
    for _ in 0..5 {
        assert_eq!(api.get("sys/health").await.0, 200);
        assert_eq!(api.get("sys/seal-status").await.0, 200);
    }
    assert_eq!(api.get("cubbyhole/none").await.0, 404);
    // Bad quota definitions change nothing.
    assert_eq!(
        api.put("sys/quotas/rate-limit/bad", json!({"rate": -1}))
            .await
            .0,
        400
    );
    assert_eq!(api.get("sys/quotas/rate-limit/bad").await.0, 404);
}
