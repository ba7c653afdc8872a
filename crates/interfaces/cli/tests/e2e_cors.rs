//! CORS over real HTTP against the real binary: `sys/config/cors` turns it
//! on for one origin, whose preflights and requests get Vault's CORS
//! headers while another origin is refused as Vault refuses it; turning it
//! off removes every CORS header; the endpoint needs `sudo`.

mod support;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use support::{Api, ServerProcess};

const ROOT: &str = "cors-root";
const APP: &str = "https://app.example";
const EVIL: &str = "https://evil.example";

/// A raw request with `Origin` and, for preflights, the requested method.
async fn send(
    http: &reqwest::Client,
    addr: &str,
    method: &str,
    path: &str,
    origin: &str,
    token: Option<&str>,
    requested: Option<&str>,
) -> (u16, HeaderMap, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http
        .request(method, format!("{addr}/v1/{path}"))
        .header("Origin", origin);
    if let Some(t) = token {
        req = req.header("X-Vault-Token", t);
    }
    if let Some(m) = requested {
        req = req
            .header("Access-Control-Request-Method", m)
            .header("Access-Control-Request-Headers", "X-Vault-Token");
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap_or_default())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

fn no_cors_headers(h: &HeaderMap) -> bool {
    h.keys()
        .all(|k| !k.as_str().starts_with("access-control-") && k.as_str() != "vary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_as_vault() {
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
    let http = reqwest::Client::new();
    let addr = server.addr.as_str();

    // Off by default: an Origin changes nothing.
    let (status, body) = api.get("sys/config/cors").await;
    assert_eq!((status, &body["data"]), (200, &json!({"enabled": false})));
    let (status, h, _) = send(&http, addr, "GET", "sys/health", EVIL, None, None).await;
    assert_eq!(status, 200);
    assert!(no_cors_headers(&h), "{h:?}");

    // Enable for one origin, with one extra header.
    let (status, body) = api
        .put(
            "sys/config/cors",
            json!({"allowed_origins": [APP], "allowed_headers": "X-Custom-Header"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, body) = api.get("sys/config/cors").await;
    assert_eq!(body["data"]["enabled"], true);
    assert_eq!(body["data"]["allowed_origins"], json!([APP]));
    let allowed: Vec<&str> = body["data"]["allowed_headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(allowed.contains(&"X-Vault-Token") && allowed.contains(&"Content-Type"));
    assert_eq!(allowed.last(), Some(&"X-Custom-Header"));

    // A preflight from the allowed origin: answered with an empty body (200,
    // what Vault's Go server sends) and the CORS headers; no token needed.
    let (status, h, text) = send(
        &http,
        addr,
        "OPTIONS",
        "secret/data/x",
        APP,
        None,
        Some("PUT"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.is_empty());
    assert_eq!(header(&h, "access-control-allow-origin"), Some(APP));
    assert_eq!(header(&h, "vary"), Some("Origin"));
    assert_eq!(
        header(&h, "access-control-allow-methods"),
        Some("DELETE,GET,OPTIONS,POST,PUT,LIST")
    );
    assert_eq!(
        header(&h, "access-control-allow-headers"),
        Some(allowed.join(",").as_str())
    );
    assert_eq!(header(&h, "access-control-max-age"), Some("300"));
    // A method outside Vault's list: 405, empty.
    let (status, h, text) = send(
        &http,
        addr,
        "OPTIONS",
        "secret/data/x",
        APP,
        None,
        Some("TRACE"),
    )
    .await;
    assert_eq!((status, text.as_str()), (405, ""));
    assert!(header(&h, "access-control-allow-origin").is_none());

    // A request from the allowed origin: served, origin echoed, Vary.
    let (status, _) = api.put("secret/data/x", json!({"data": {"k": "v"}})).await;
    assert_eq!(status, 200);
    let (status, h, text) = send(&http, addr, "GET", "secret/data/x", APP, Some(ROOT), None).await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["data"]["data"], json!({"k": "v"}));
    assert_eq!(header(&h, "access-control-allow-origin"), Some(APP));
    assert_eq!(header(&h, "vary"), Some("Origin"));
    // Errors carry them too (a missing token).
    let (status, h, _) = send(&http, addr, "GET", "secret/data/x", APP, None, None).await;
    assert_eq!(status, 403);
    assert_eq!(header(&h, "access-control-allow-origin"), Some(APP));

    // Another origin: refused as Vault refuses it, preflight or not, even
    // with a valid token; the request never reaches the core.
    for (method, requested) in [("OPTIONS", Some("GET")), ("GET", None)] {
        let (status, h, text) = send(
            &http,
            addr,
            method,
            "secret/data/x",
            EVIL,
            Some(ROOT),
            requested,
        )
        .await;
        assert_eq!(status, 403, "{method}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body, json!({"errors": ["origin not allowed"]}));
        assert!(no_cors_headers(&h), "{h:?}");
    }
    let (status, _, _) = send(&http, addr, "PUT", "secret/data/x", EVIL, Some(ROOT), None).await;
    assert_eq!(status, 403);
    assert_eq!(
        api.get("secret/data/x").await.1["data"]["data"],
        json!({"k": "v"})
    );
    // Requests without an Origin (the CLI, other servers) are untouched.
    assert_eq!(api.get("secret/data/x").await.0, 200);

    // `sys/config/cors` needs sudo: update (and read) on the path are not
    // enough.
    let (status, body) = api
        .put(
            "sys/policies/acl/cors-no-sudo",
            json!({"policy": "path \"sys/config/cors\" { capabilities = [\"create\", \"read\", \"update\", \"delete\"] }"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = api
        .put("auth/token/create", json!({"policies": ["cors-no-sudo"]}))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut plain = Api::new(&server.addr, None);
    plain.token = Some(body["auth"]["client_token"].as_str().unwrap().to_owned());
    for (method, body) in [
        ("PUT", Some(json!({"allowed_origins": "*"}))),
        ("GET", None),
        ("DELETE", None),
    ] {
        let (status, resp) = plain.call(method, "sys/config/cors", body).await;
        assert_eq!(status, 403, "{method}: {resp}");
    }
    assert_eq!(
        api.get("sys/config/cors").await.1["data"]["allowed_origins"],
        json!([APP])
    );

    // Disable: no CORS headers at all, any origin is served.
    assert_eq!(api.call("DELETE", "sys/config/cors", None).await.0, 204);
    let (_, body) = api.get("sys/config/cors").await;
    assert_eq!(body["data"], json!({"enabled": false}));
    for origin in [APP, EVIL] {
        let (status, h, _) = send(
            &http,
            addr,
            "GET",
            "secret/data/x",
            origin,
            Some(ROOT),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert!(no_cors_headers(&h), "{h:?}");
        let (status, h, _) = send(
            &http,
            addr,
            "OPTIONS",
            "secret/data/x",
            origin,
            None,
            Some("GET"),
        )
        .await;
        // Not a preflight any more: the method is refused as before.
        assert_eq!(status, 405);
        assert!(no_cors_headers(&h), "{h:?}");
    }
}
