//! Issue 3 families through vaultrs: userpass and AppRole logins, identity
//! entities and groups, and unwrapping a wrapped response.

mod support;

use std::collections::HashMap;

use serde_json::json;
use support::{Api, ServerProcess};
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

const ROOT: &str = "vaultrs-access-root";

fn client(addr: &str, token: &str) -> VaultClient {
    VaultClient::new(
        VaultClientSettingsBuilder::default()
            .address(addr)
            .token(token)
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vaultrs_auth_identity_and_wrapping() {
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
    let root = client(&server.addr, ROOT);

    // userpass
    vaultrs::sys::auth::enable(&root, "userpass", "userpass", None)
        .await
        .unwrap();
    vaultrs::auth::userpass::user::set(
        &root,
        "userpass",
        "frank",
        "s3cret-pw",
        Some(
            vaultrs::api::auth::userpass::requests::CreateUserRequest::builder()
                .token_policies(vec!["default".to_owned()]),
        ),
    )
    .await
    .unwrap();
    let anon = client(&server.addr, "");
    let auth = vaultrs::auth::userpass::login(&anon, "userpass", "frank", "s3cret-pw")
        .await
        .unwrap();
    assert!(auth.client_token.starts_with("hvs."));
    assert!(!auth.entity_id.is_empty());
    assert!(
        vaultrs::auth::userpass::login(&anon, "userpass", "frank", "wrong")
            .await
            .is_err()
    );
    let users = vaultrs::auth::userpass::user::list(&root, "userpass")
        .await
        .unwrap();
    assert_eq!(users.keys, vec!["frank"]);

    // AppRole
    vaultrs::sys::auth::enable(&root, "approle", "approle", None)
        .await
        .unwrap();
    vaultrs::auth::approle::role::set(
        &root,
        "approle",
        "deploy",
        Some(
            vaultrs::api::auth::approle::requests::SetAppRoleRequest::builder()
                .token_policies(vec!["default".to_owned()])
                .token_ttl("15m"),
        ),
    )
    .await
    .unwrap();
    let role_id = vaultrs::auth::approle::role::read_id(&root, "approle", "deploy")
        .await
        .unwrap()
        .role_id;
    let secret = vaultrs::auth::approle::role::secret::generate(&root, "approle", "deploy", None)
        .await
        .unwrap();
    let machine = vaultrs::auth::approle::login(&anon, "approle", &role_id, &secret.secret_id)
        .await
        .unwrap();
    assert_eq!(machine.lease_duration, 900);
    assert!(
        vaultrs::auth::approle::login(&anon, "approle", &role_id, "bogus")
            .await
            .is_err()
    );

    // identity: the userpass login's entity joins a group.
    let entity = vaultrs::identity::entity::read_by_id(&root, &auth.entity_id)
        .await
        .unwrap();
    assert_eq!(entity.aliases[0].name, "frank");
    let created = vaultrs::identity::entity::create(
        &root,
        Some(
            vaultrs::api::identity::entity::requests::CreateEntityRequest::builder()
                .name("svc-entity")
                .policies(vec!["default".to_owned()]),
        ),
    )
    .await
    .unwrap();
    vaultrs::identity::group::create_or_update_by_name(
        &root,
        "ops",
        Some(
            vaultrs::api::identity::group::requests::CreateGroupByNameRequest::builder()
                .policies(vec!["ops".to_owned()])
                .member_entity_ids(vec![auth.entity_id.clone(), created.id.clone()]),
        ),
    )
    .await
    .unwrap();
    let mut http_api = Api::new(&server.addr, None);
    http_api.token = Some(ROOT.into());
    let (_, group) = http_api.get("identity/group/name/ops").await;
    assert_eq!(
        group["data"]["member_entity_ids"].as_array().unwrap().len(),
        2
    );
    let again = vaultrs::auth::userpass::login(&anon, "userpass", "frank", "s3cret-pw")
        .await
        .unwrap();
    assert_eq!(again.entity_id, auth.entity_id);
    assert!(
        again.policies.contains(&"ops".to_owned()),
        "group policy on the login: {:?}",
        again.policies
    );

    // Unwrap a response wrapped over HTTP.
    let mut api = Api::new(&server.addr, None);
    api.token = Some(ROOT.into());
    api.put("secret/data/wrapped", json!({"data": {"k": "v"}}))
        .await;
    let http = reqwest::Client::new();
    let wrapped: serde_json::Value = http
        .get(format!("{}/v1/secret/data/wrapped", server.addr))
        .header("X-Vault-Token", ROOT)
        .header("X-Vault-Wrap-TTL", "5m")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wrap_token = wrapped["wrap_info"]["token"].as_str().unwrap().to_owned();
    let looked = vaultrs::sys::wrapping::lookup(&root, &wrap_token)
        .await
        .unwrap();
    assert_eq!(looked.creation_path, "secret/data/wrapped");
    let unwrapped: HashMap<String, serde_json::Value> =
        vaultrs::sys::wrapping::unwrap(&client(&server.addr, &wrap_token), None)
            .await
            .unwrap();
    assert_eq!(unwrapped["data"]["k"], "v");
}
