//! File devices through the manager and broker: record contents, HMAC
//! against `sys/audit-hash`, `log_raw`, rotation, the sys endpoints, and
//! clean failure on unwritable paths.

mod common;

use coffer_audit::{AuditManagerOptions, AuditRequest, AuditResponse, DeviceConfig};
use coffer_types::{Operation, Response};
use serde_json::json;

use common::{call, data, enable_file, manager, memory, records, request};

const CANARY: &str = "canary-7b1f0e-secret";

#[tokio::test]
async fn records_are_paired_sealed_and_hmac_ed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.log");
    let mem = memory();
    let mgr = manager(&mem, AuditManagerOptions::default()).await;
    enable_file(&mgr, "file", &file, json!({})).await;

    let req = request(
        "req-1",
        "secret/data/app",
        json!({"data": {"password": CANARY, "n": 1}}),
    );
    let input = AuditRequest::new(&req);
    mgr.log_request(&input).await.unwrap();
    // Durable before log_request returns.
    let recs = records(&file);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["type"], "request");
    assert_eq!(recs[0]["seq"], 0);
    assert_eq!(recs[0]["prev"], "0".repeat(64));

    let resp = Response::with_data(
        json!({"data": {"password": CANARY}})
            .as_object()
            .unwrap()
            .clone(),
    );
    mgr.log_response(&input, &AuditResponse::ok(&resp))
        .await
        .unwrap();
    let recs = records(&file);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1]["type"], "response");
    assert_eq!(recs[1]["seq"], 1);
    assert_eq!(recs[0]["request"]["id"], recs[1]["request"]["id"]);

    // The canary appears only HMAC-ed, and audit-hash finds it.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(CANARY));
    assert!(!text.contains("hvs.testtoken"));
    let hash = data(
        call(
            &mgr,
            Operation::Update,
            "audit-hash/file",
            json!({"input": CANARY}),
        )
        .await
        .unwrap(),
    )["hash"]
        .clone();
    assert!(hash.as_str().unwrap().starts_with("hmac-sha256:"));
    assert_eq!(recs[0]["request"]["data"]["data"]["password"], hash);
    assert_eq!(recs[1]["response"]["data"]["data"]["password"], hash);
    assert_eq!(
        mgr.hash("file/", CANARY).await.unwrap(),
        hash.as_str().unwrap()
    );
    assert_eq!(recs[0]["request"]["data"]["data"]["n"], 1);
}

#[tokio::test]
async fn log_raw_writes_values_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("raw.log");
    let mgr = manager(&memory(), AuditManagerOptions::default()).await;
    enable_file(
        &mgr,
        "raw",
        &file,
        json!({"log_raw": "true", "prefix": "AUDIT "}),
    )
    .await;
    let req = request("r", "secret/data/app", json!({"password": CANARY}));
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(CANARY));
    assert!(text.starts_with("AUDIT {"));
}

#[tokio::test]
async fn sys_endpoints_list_enable_disable_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mgr = manager(&memory(), AuditManagerOptions::default()).await;
    assert_eq!(
        data(
            call(&mgr, Operation::Read, "audit", json!({}))
                .await
                .unwrap()
        ),
        json!({})
    );

    let file = dir.path().join("a.log");
    let resp = call(
        &mgr,
        Operation::Update,
        "audit/my-file",
        json!({"type": "file", "description": "d", "options": {"file_path": file.display().to_string(), "hmac_accessor": false}}),
    )
    .await
    .unwrap();
    assert!(resp.is_none());
    let listed = data(
        call(&mgr, Operation::Read, "audit", json!({}))
            .await
            .unwrap(),
    );
    assert_eq!(
        listed,
        json!({"my-file/": {
            "type": "file",
            "description": "d",
            "options": {"file_path": file.display().to_string(), "hmac_accessor": "false"},
            "local": false,
            "path": "my-file/",
        }})
    );

    let err = call(
        &mgr,
        Operation::Update,
        "audit/my-file/sub",
        json!({"type": "file", "options": {"file_path": "discard"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status(), err.messages()[0].as_str()),
        (400, "path already in use")
    );
    let err = call(&mgr, Operation::Update, "audit/k", json!({"type": "kafka"}))
        .await
        .unwrap_err();
    assert_eq!(err.messages()[0], "audit device type not supported: kafka");
    let err = call(
        &mgr,
        Operation::Update,
        "audit/k",
        json!({"type": "file", "options": {"file_path": ["x"]}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), 400);
    let err = call(&mgr, Operation::Update, "audit-hash/my-file", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.messages()[0], "the \"input\" parameter is empty");
    let err = call(
        &mgr,
        Operation::Update,
        "audit-hash/nope",
        json!({"input": "x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status(), err.messages()[0].as_str()),
        (400, "unknown audit backend nope/")
    );
    assert_eq!(
        call(&mgr, Operation::Read, "audit/my-file", json!({}))
            .await
            .unwrap_err()
            .status(),
        405
    );
    assert_eq!(
        call(&mgr, Operation::Read, "audit-nope", json!({}))
            .await
            .unwrap_err()
            .status(),
        404
    );

    let key = data(
        call(&mgr, Operation::Read, "audit-log/public-key", json!({}))
            .await
            .unwrap(),
    );
    assert_eq!(key["key_name"], "coffer-audit");
    assert!(
        key["public_key"]
            .as_str()
            .unwrap()
            .starts_with("coffer-audit+")
    );

    call(&mgr, Operation::Delete, "audit/my-file", json!({}))
        .await
        .unwrap();
    call(&mgr, Operation::Delete, "audit/my-file", json!({}))
        .await
        .unwrap();
    assert_eq!(
        data(
            call(&mgr, Operation::Read, "audit", json!({}))
                .await
                .unwrap()
        ),
        json!({})
    );
    assert!(!mgr.broker().is_enabled());
}

#[tokio::test]
async fn unwritable_path_fails_cleanly_and_enables_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory();
    let mgr = manager(&mem, AuditManagerOptions::default()).await;
    let bad = dir.path().join("no/such/dir/audit.log");
    let err = call(
        &mgr,
        Operation::Update,
        "audit/file",
        json!({"type": "file", "options": {"file_path": bad.display().to_string()}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(
        err.messages()[0].starts_with("sanity check failed; unable to open"),
        "{err}"
    );
    assert_eq!(
        data(
            call(&mgr, Operation::Read, "audit", json!({}))
                .await
                .unwrap()
        ),
        json!({})
    );
    assert!(!mgr.broker().is_enabled());
    let stored = coffer_storage::list_recursive(mem.as_ref(), &coffer_storage::Prefix::root())
        .await
        .unwrap();
    assert_eq!(stored, vec!["audit/signing-key"]);
}

#[tokio::test]
async fn reopen_after_rename_continues_the_log_in_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.log");
    let mgr = manager(&memory(), AuditManagerOptions::default()).await;
    enable_file(&mgr, "file", &file, json!({})).await;
    let req = request("a", "secret/x", json!({}));
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    let rotated = dir.path().join("audit.log.1");
    std::fs::rename(&file, &rotated).unwrap();
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    mgr.reopen().await.unwrap();
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    let old: Vec<_> = records(&rotated).iter().map(|r| r["seq"].clone()).collect();
    let new: Vec<_> = records(&file).iter().map(|r| r["seq"].clone()).collect();
    assert_eq!(old, vec![json!(0), json!(1)]);
    assert_eq!(new, vec![json!(2)]);
    let status = mgr.status().await;
    assert_eq!(status["ok"], true, "{status:?}");
    assert_eq!(mgr.tamper_detected_total(), 0);
}

#[tokio::test]
async fn heads_persist_across_restarts_and_the_log_continues() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.log");
    let mem = memory();
    let hash_before;
    {
        let mgr = manager(&mem, AuditManagerOptions::default()).await;
        enable_file(&mgr, "file", &file, json!({})).await;
        let req = request("a", "secret/x", json!({"v": "x"}));
        for _ in 0..3 {
            mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
        }
        hash_before = mgr.hash("file", "x").await.unwrap();
        mgr.shutdown().await.unwrap();
    }
    let mgr = manager(&mem, AuditManagerOptions::default()).await;
    assert_eq!(mgr.hash("file", "x").await.unwrap(), hash_before);
    let req = request("b", "secret/x", json!({}));
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    let seqs: Vec<_> = records(&file)
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![0, 1, 2, 3]);
    // The shutdown wrote a checkpoint covering the first three records.
    let lines = common::lines(&file);
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "checkpoint" && l["size"] == 3)
    );
    let status = mgr.status().await;
    assert_eq!(status["ok"], true, "{status:?}");
    assert_eq!(status["devices"]["file/"]["size"], 4);

    // The file across both runs verifies offline with the served key.
    mgr.shutdown().await.unwrap();
    let key: coffer_audit_log::PublicKey = mgr.public_key().parse().unwrap();
    let report = coffer_audit_log::verify(
        std::io::BufReader::new(std::fs::File::open(&file).unwrap()),
        &key,
        &coffer_audit_log::VerifyOptions::default(),
    );
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!((report.records, report.uncovered_records), (4, 0));
}

#[tokio::test]
async fn declared_devices_cannot_be_disabled_and_api_enable_can_be_forbidden() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("declared.log");
    let mgr = manager(
        &memory(),
        AuditManagerOptions::default().with_api_enable(false),
    )
    .await;
    let options = [("file_path".to_owned(), file.display().to_string())].into();
    mgr.declare_from_config(vec![DeviceConfig::new("declared", "file", options)])
        .await
        .unwrap();
    let listed = data(
        call(&mgr, Operation::Read, "audit", json!({}))
            .await
            .unwrap(),
    );
    assert_eq!(listed["declared/"]["type"], "file");
    let err = call(&mgr, Operation::Delete, "audit/declared", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(err.messages()[0].contains("declared in the server configuration"));
    let err = call(
        &mgr,
        Operation::Update,
        "audit/other",
        json!({"type": "file", "options": {"file_path": "discard"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.messages()[0], coffer_audit::API_ENABLE_DISABLED);
    // Declaring the same device again keeps it; removing it from the config disables it.
    let options = [("file_path".to_owned(), file.display().to_string())].into();
    mgr.declare_from_config(vec![DeviceConfig::new("declared/", "file", options)])
        .await
        .unwrap();
    assert_eq!(mgr.devices().await.len(), 1);
    mgr.declare_from_config(vec![]).await.unwrap();
    assert!(mgr.devices().await.is_empty());
}

#[tokio::test]
async fn syslog_without_a_local_socket_fails_on_enable() {
    // The socket is the test's own path (never the machine's /dev/log, which
    // exists on some machines and not on others), so this always runs.
    assert_eq!(
        AuditManagerOptions::default().syslog_socket,
        std::path::Path::new("/dev/log")
    );
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("log");
    let mgr = manager(
        &memory(),
        AuditManagerOptions::default().with_syslog_socket(&missing),
    )
    .await;
    let err = call(
        &mgr,
        Operation::Update,
        "audit/syslog",
        json!({"type": "syslog"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), 400);
    let expected = format!(
        "no local syslog socket at {:?}",
        missing.display().to_string()
    );
    assert!(err.messages()[0].contains(&expected), "{err}");
    assert!(mgr.devices().await.is_empty());
}

#[tokio::test]
async fn syslog_devices_send_sealed_records_to_the_local_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    // The test's stand-in for the syslog daemon.
    let daemon = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    daemon
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mgr = manager(
        &memory(),
        AuditManagerOptions::default().with_syslog_socket(&path),
    )
    .await;
    call(
        &mgr,
        Operation::Update,
        "audit/syslog",
        json!({"type": "syslog", "options": {"facility": "LOCAL3", "tag": "coffer-test"}}),
    )
    .await
    .unwrap();
    assert_eq!(mgr.devices().await.len(), 1);

    let req = request("sys-1", "secret/data/app", json!({"password": CANARY}));
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = daemon.recv(&mut buf).unwrap();
    let msg = String::from_utf8(buf[..n].to_vec()).unwrap();
    // LOCAL3 (19) * 8 + info (6) = 158.
    assert!(msg.starts_with("<158>"), "{msg}");
    let (head, record) = msg.split_once(": ").unwrap();
    assert!(
        head.ends_with(&format!("coffer-test[{}]", std::process::id())),
        "{head}"
    );
    let record: serde_json::Value = serde_json::from_str(record).unwrap();
    assert_eq!(record["type"], "request");
    assert_eq!(record["seq"], 0);
    assert_eq!(record["request"]["id"], "sys-1");
    assert!(!msg.contains(CANARY), "{msg}");
    assert_eq!(
        record["request"]["data"]["password"],
        mgr.hash("syslog/", CANARY).await.unwrap()
    );
}
