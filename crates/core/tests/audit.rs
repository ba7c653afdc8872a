//! Audit through the pipeline: every request and response recorded in
//! Vault's format with secrets HMAC-ed, `sys/audit-hash` matching the log,
//! and requests refused when no device can record them (fail closed).

use std::sync::Arc;

use coffer_core::{Core, CoreConfig};
use coffer_storage::MemoryStorage;
use coffer_types::{Operation, Request, Response, Result};
use serde_json::{Map, Value, json};

const ROOT: &str = "audit-root";
const CANARY: &str = "canary-audit-5d1e-secret";

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

async fn call(core: &Core, op: Operation, path: &str, data: Value) -> Result<Response> {
    core.handle(Request::new(op, path).with_data(obj(data)).with_token(ROOT))
        .await
}

#[tokio::test]
async fn requests_are_audited_with_secrets_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let core = Core::new(
        Arc::new(MemoryStorage::new()),
        CoreConfig {
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    core.dev_init(Some(ROOT)).await.unwrap();

    // An unwritable path is refused and enables nothing.
    let bad = call(
        &core,
        Operation::Update,
        "sys/audit/bad",
        json!({"type": "file", "options": {"file_path": "/proc/no/such/dir/audit.log"}}),
    )
    .await;
    assert_eq!(bad.unwrap_err().status(), 400);
    call(
        &core,
        Operation::Update,
        "sys/audit/file",
        json!({"type": "file", "options": {"file_path": log.display().to_string()}}),
    )
    .await
    .unwrap();
    let listed = call(&core, Operation::Read, "sys/audit", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert!(
        listed.get("file/").is_some() && listed.get("bad/").is_none(),
        "{listed:?}"
    );

    call(
        &core,
        Operation::Update,
        "secret/data/app",
        json!({"data": {"password": CANARY}}),
    )
    .await
    .unwrap();
    let read = call(&core, Operation::Read, "secret/data/app", json!({}))
        .await
        .unwrap();
    assert_eq!(read.data.unwrap()["data"]["password"], CANARY);
    let denied = core
        .handle(Request::new(Operation::Read, "secret/data/app").with_token("not-a-token"))
        .await;
    assert_eq!(denied.unwrap_err().status(), 403);

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(CANARY), "canary in clear in the audit log");
    assert!(!text.contains(ROOT), "token in clear in the audit log");
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reads: Vec<&Value> = records
        .iter()
        .filter(|r| {
            r["request"]["path"] == "secret/data/app" && r["request"]["operation"] == "read"
        })
        .collect();
    assert!(
        reads.iter().any(|r| r["type"] == "request"),
        "request record"
    );
    let response = reads
        .iter()
        .find(|r| r["type"] == "response" && r["error"].as_str().unwrap_or("").is_empty())
        .expect("response record");
    let hashed = response["response"]["data"]["data"]["password"]
        .as_str()
        .unwrap();
    assert!(hashed.starts_with("hmac-sha256:"), "{hashed}");
    assert_eq!(
        response["request"]["id"],
        reads.iter().find(|r| r["type"] == "request").unwrap()["request"]["id"]
    );
    assert!(
        records.iter().any(|r| r["error"]
            .as_str()
            .is_some_and(|e| e.contains("permission denied"))),
        "denied request audited"
    );
    assert!(
        records
            .iter()
            .all(|r| r.get("seq").is_some() || r["type"] == "checkpoint"),
        "records are sealed"
    );

    // audit-hash gives the same HMAC, so an operator can search for a value.
    let hash = call(
        &core,
        Operation::Update,
        "sys/audit-hash/file",
        json!({"input": CANARY}),
    )
    .await
    .unwrap()
    .data
    .unwrap();
    assert_eq!(hash["hash"], hashed);
    let key = call(
        &core,
        Operation::Read,
        "sys/audit-log/public-key",
        json!({}),
    )
    .await
    .unwrap()
    .data
    .unwrap();
    assert!(key["public_key"].as_str().unwrap().contains('+'));
}

#[tokio::test]
async fn no_device_able_to_record_means_refused() {
    let core = Core::new(
        Arc::new(MemoryStorage::new()),
        CoreConfig {
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    core.dev_init(Some(ROOT)).await.unwrap();
    // /dev/full accepts the open and fails every write (ENOSPC).
    call(
        &core,
        Operation::Update,
        "sys/audit/full",
        json!({"type": "file", "options": {"file_path": "/dev/full"}}),
    )
    .await
    .unwrap();
    let refused = call(&core, Operation::Read, "secret/config", json!({}))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 500);
    assert!(refused.messages()[0].contains("audit"), "{refused}");
    let also_refused = call(
        &core,
        Operation::Update,
        "secret/data/x",
        json!({"data": {"a": "b"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        also_refused.status(),
        500,
        "nothing reaches a backend unaudited"
    );
}
