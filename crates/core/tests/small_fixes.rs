//! Small defects found by the hardening campaign (issue 12, parts 6 and 9):
//! LIST without a trailing slash under a `list` policy, typed `sys/init`
//! fields, audit file paths, and reads that find nothing.

mod support;

use coffer_types::Operation;
use serde_json::json;
use support::{Harness, error_text, status};

#[tokio::test]
async fn list_without_a_trailing_slash_is_checked_as_a_folder() {
    let h = Harness::dev().await;
    h.root(
        Operation::Update,
        "sys/policies/acl/lister",
        json!({"policy": r#"path "secret/metadata/dir/*" { capabilities = ["list"] }"#}),
    )
    .await
    .unwrap();
    h.root(
        Operation::Update,
        "secret/data/dir/a",
        json!({"data": {"k": "v"}}),
    )
    .await
    .unwrap();
    let token = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"policies": ["lister"]}),
        )
        .await
        .unwrap()
        .auth
        .unwrap()
        .client_token;
    for path in ["secret/metadata/dir", "secret/metadata/dir/"] {
        let r = h.call(Some(&token), Operation::List, path, json!({})).await;
        assert_eq!(status(&r), 200, "{path}: {}", error_text(&r));
        let keys = &r.unwrap().data.unwrap()["keys"];
        assert_eq!(keys, &json!(["a"]), "{path}");
    }
    // The slash is added for LIST only: a read of the folder is still denied.
    let r = h
        .call(
            Some(&token),
            Operation::Read,
            "secret/metadata/dir",
            json!({}),
        )
        .await;
    assert_eq!(status(&r), 403);
}

#[tokio::test]
async fn a_read_that_finds_nothing_is_404() {
    let h = Harness::dev().await;
    h.enable("database", "database").await;
    let r = h
        .root(Operation::Read, "database/config/absent", json!({}))
        .await;
    assert_eq!(status(&r), 404, "{:?}", r.map(|r| r.data));
}

#[tokio::test]
async fn audit_file_paths_must_be_absolute() {
    let h = Harness::dev().await;
    let cwd = std::env::current_dir().unwrap();
    for bad in [
        json!(123),
        json!(true),
        json!("audit.log"),
        json!("./x.log"),
    ] {
        let r = h
            .root(
                Operation::Update,
                "sys/audit/file",
                json!({"type": "file", "options": {"file_path": bad}}),
            )
            .await;
        assert_eq!(status(&r), 400, "{bad}: {}", error_text(&r));
        let name = bad.as_str().map_or_else(|| bad.to_string(), str::to_owned);
        assert!(!cwd.join(&name).exists(), "{name} was created");
    }
    let list = h
        .root(Operation::Read, "sys/audit", json!({}))
        .await
        .unwrap();
    assert!(list.data.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn init_fields_are_typed() {
    let core = coffer_core::Core::new(
        std::sync::Arc::new(coffer_storage::MemoryStorage::new()),
        coffer_core::CoreConfig {
            catalog: coffer_builtins::catalog(),
            ..coffer_core::CoreConfig::default()
        },
    );
    let init = |body: serde_json::Value| {
        let core = core.clone();
        async move {
            core.handle(
                coffer_types::Request::new(Operation::Update, "sys/init")
                    .with_data(body.as_object().cloned().unwrap()),
            )
            .await
        }
    };
    for body in [
        json!({"secret_shares": 1, "secret_threshold": 1, "stored_shares": -1}),
        json!({"secret_shares": 1, "secret_threshold": 1, "stored_shares": 1}),
        json!({"secret_shares": 1, "secret_threshold": 1, "recovery_shares": -1}),
        json!({"secret_shares": 1, "secret_threshold": 1, "recovery_threshold": "x"}),
    ] {
        let r = init(body.clone()).await;
        assert_eq!(status(&r), 400, "{body}: {}", error_text(&r));
    }
    assert!(!core.is_initialized().await.unwrap());
    let r = init(json!({"secret_shares": 1, "secret_threshold": 1, "stored_shares": 0})).await;
    assert!(r.is_ok(), "{}", error_text(&r));
}

#[tokio::test]
async fn operator_flags_are_typed() {
    let h = Harness::dev().await;
    let cases = [
        (
            "sys/rekey/init",
            json!({"secret_shares": 1, "secret_threshold": 1, "require_verification": {"a": 1}}),
        ),
        (
            "sys/rekey/init",
            json!({"secret_shares": 1, "secret_threshold": 1, "require_verification": [true]}),
        ),
        ("sys/generate-root/attempt", json!({"otp": 12})),
        ("sys/generate-root/attempt", json!({"pgp_key": {"k": "v"}})),
        ("sys/unseal", json!({"key": "x", "migrate": "maybe"})),
        ("sys/unseal", json!({"reset": 3})),
    ];
    for (path, body) in cases {
        let r = h.call(None, Operation::Update, path, body.clone()).await;
        assert_eq!(status(&r), 400, "{path} {body}: {}", error_text(&r));
    }
    // Nothing was started by the refused requests.
    for path in ["sys/rekey/init", "sys/generate-root/attempt"] {
        let r = h
            .call(None, Operation::Read, path, json!({}))
            .await
            .unwrap();
        assert_eq!(r.raw.unwrap()["started"], json!(false), "{path}");
    }
}
