//! The same flows through vaultrs, a third-party Rust Vault client: init and
//! unseal over TLS, KV v1 and v2, tokens, policies, mounts, seal.

mod support;

use std::collections::HashMap;

use support::{ServerProcess, make_tls, write_config};
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

fn client(addr: &str, ca: &std::path::Path, token: &str) -> VaultClient {
    VaultClient::new(
        VaultClientSettingsBuilder::default()
            .address(addr)
            .token(token)
            .ca_certs(vec![ca.display().to_string()])
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vaultrs_flows() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_tls(dir.path());
    let config = write_config(dir.path(), Some(&tls));
    let server = ServerProcess::start(
        &[&format!("-config={}", config.display())],
        dir.path(),
        true,
    );

    let anon = client(&server.addr, &tls.ca_cert, "");
    let init = vaultrs::sys::start_initialization(&anon, 5, 3, None)
        .await
        .unwrap();
    assert_eq!(init.keys.len(), 5);
    let mut sealed = true;
    for key in &init.keys_base64[1..4] {
        sealed = vaultrs::sys::unseal(&anon, Some(key.clone()), None, None)
            .await
            .unwrap()
            .sealed;
    }
    assert!(!sealed);

    let root = client(&server.addr, &tls.ca_cert, &init.root_token);
    vaultrs::sys::mount::enable(&root, "secret", "kv-v2", None)
        .await
        .unwrap();
    vaultrs::sys::mount::enable(&root, "kv1", "kv", None)
        .await
        .unwrap();
    let mounts = vaultrs::sys::mount::list(&root).await.unwrap();
    assert_eq!(mounts["secret/"].mount_type, "kv");
    assert!(mounts.contains_key("kv1/"));

    // KV v2.
    let mut data = HashMap::new();
    data.insert("user", "app");
    data.insert("password", "s3cr3t");
    vaultrs::kv2::set(&root, "secret", "team/app", &data)
        .await
        .unwrap();
    data.insert("password", "rotated");
    vaultrs::kv2::set(&root, "secret", "team/app", &data)
        .await
        .unwrap();
    let latest: HashMap<String, String> = vaultrs::kv2::read(&root, "secret", "team/app")
        .await
        .unwrap();
    assert_eq!(latest["password"], "rotated");
    let v1: HashMap<String, String> = vaultrs::kv2::read_version(&root, "secret", "team/app", 1)
        .await
        .unwrap();
    assert_eq!(v1["password"], "s3cr3t");
    assert_eq!(
        vaultrs::kv2::list(&root, "secret", "team").await.unwrap(),
        vec!["app"]
    );
    let meta = vaultrs::kv2::read_metadata(&root, "secret", "team/app")
        .await
        .unwrap();
    assert_eq!(meta.current_version, 2);
    vaultrs::kv2::delete_latest(&root, "secret", "team/app")
        .await
        .unwrap();
    assert!(
        vaultrs::kv2::read::<HashMap<String, String>>(&root, "secret", "team/app")
            .await
            .is_err()
    );
    vaultrs::kv2::undelete_versions(&root, "secret", "team/app", vec![2])
        .await
        .unwrap();
    let back: HashMap<String, String> = vaultrs::kv2::read(&root, "secret", "team/app")
        .await
        .unwrap();
    assert_eq!(back["password"], "rotated");

    // KV v1.
    vaultrs::kv1::set(&root, "kv1", "db", &HashMap::from([("pw", "x")]))
        .await
        .unwrap();
    let got: HashMap<String, String> = vaultrs::kv1::get(&root, "kv1", "db").await.unwrap();
    assert_eq!(got["pw"], "x");
    assert_eq!(
        vaultrs::kv1::list(&root, "kv1", "")
            .await
            .unwrap()
            .data
            .keys,
        vec!["db"]
    );

    // Policies and tokens.
    vaultrs::sys::policy::set(
        &root,
        "app-read",
        r#"path "secret/data/team/*" { capabilities = ["read"] }"#,
    )
    .await
    .unwrap();
    assert!(
        vaultrs::sys::policy::list(&root)
            .await
            .unwrap()
            .policies
            .contains(&"app-read".to_owned())
    );
    let auth = vaultrs::token::new(
        &root,
        Some(
            vaultrs::api::token::requests::CreateTokenRequest::builder()
                .policies(vec!["app-read".into()])
                .ttl("1h"),
        ),
    )
    .await
    .unwrap();
    let app = client(&server.addr, &tls.ca_cert, &auth.client_token);
    let me = vaultrs::token::lookup_self(&app).await.unwrap();
    assert!(me.policies.contains(&"app-read".to_owned()));
    let read: HashMap<String, String> = vaultrs::kv2::read(&app, "secret", "team/app")
        .await
        .unwrap();
    assert_eq!(read["user"], "app");
    assert!(
        vaultrs::kv2::set(&app, "secret", "team/app", &data)
            .await
            .is_err(),
        "read-only token cannot write"
    );
    vaultrs::token::revoke(&root, &auth.client_token)
        .await
        .unwrap();
    assert!(vaultrs::token::lookup_self(&app).await.is_err());

    vaultrs::sys::seal(&root).await.unwrap();
    assert!(
        vaultrs::kv2::read::<HashMap<String, String>>(&root, "secret", "team/app")
            .await
            .is_err()
    );
    drop(server);
}
