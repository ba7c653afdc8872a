//! `x_forwarded_for_authorized_addrs`: a trusted proxy's `X-Forwarded-For`
//! decides the client address (so CIDR-bound tokens see the real client);
//! the header from an untrusted peer is refused.

mod support;

use serde_json::json;
use support::{Api, ServerProcess, unseal};

async fn start(dir: &std::path::Path, trusted: &str) -> (ServerProcess, String) {
    let config = dir.join(format!("xff-{}.hcl", trusted.replace(['/', '.'], "_")));
    std::fs::write(
        &config,
        format!("storage \"inmem\" {{}}\ndisable_mlock = true\nlistener \"tcp\" {{\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n  x_forwarded_for_authorized_addrs = \"{trusted}\"\n}}\n"),
    )
    .unwrap();
    let server = ServerProcess::start(&[&format!("-config={}", config.display())], dir, false);
    let api = Api::new(&server.addr, None);
    let (_, init) = api
        .put(
            "sys/init",
            json!({"secret_shares": 1, "secret_threshold": 1}),
        )
        .await;
    unseal(&api, &[init["keys"][0].as_str().unwrap()]).await;
    (server, init["root_token"].as_str().unwrap().to_owned())
}

async fn lookup_self(addr: &str, token: &str, forwarded: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new()
        .get(format!("{addr}/v1/auth/token/lookup-self"))
        .header("X-Vault-Token", token);
    if let Some(f) = forwarded {
        req = req.header("X-Forwarded-For", f);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_trusted_proxies_only() {
    let dir = tempfile::tempdir().unwrap();
    let (server, root) = start(dir.path(), "127.0.0.1").await;
    let mut api = Api::new(&server.addr, None);
    api.token = Some(root);
    let (status, created) = api
        .put(
            "auth/token/create",
            json!({"policies": ["default"], "bound_cidrs": ["10.0.0.0/8"]}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let bound = created["auth"]["client_token"].as_str().unwrap().to_owned();
    assert_eq!(
        lookup_self(&server.addr, &bound, Some("203.0.113.7, 10.1.2.3")).await,
        200,
        "last hop is the client"
    );
    assert_eq!(
        lookup_self(&server.addr, &bound, None).await,
        403,
        "the proxy itself is outside the binding"
    );
    assert_eq!(
        lookup_self(&server.addr, &bound, Some("192.168.0.1")).await,
        403
    );
    assert_eq!(
        lookup_self(&server.addr, &bound, Some("not-an-ip")).await,
        400
    );
    drop(server);

    let (untrusting, root) = start(dir.path(), "10.9.9.9/32").await;
    assert_eq!(lookup_self(&untrusting.addr, &root, None).await, 200);
    assert_eq!(
        lookup_self(&untrusting.addr, &root, Some("10.1.2.3")).await,
        403,
        "header from an untrusted peer is refused"
    );
}
