//! Fail-closed delivery: a device whose writes fail, a socket peer that
//! stops reading (writes hit the deadline, never hang), and tamper detection
//! of deleted and truncated files.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use coffer_audit::{AuditError, AuditManagerOptions, AuditRequest};
use coffer_types::Operation;
use serde_json::json;

use common::{call, enable_file, manager, memory, records, request};

#[tokio::test]
async fn no_device_succeeds_means_the_request_is_refused() {
    let mgr = manager(&memory(), AuditManagerOptions::default()).await;
    let req = request("a", "secret/x", json!({}));
    // No device enabled: nothing to fail.
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();

    // /dev/full fails every write with ENOSPC.
    enable_file(&mgr, "full", std::path::Path::new("/dev/full"), json!({})).await;
    let err = mgr.log_request(&AuditRequest::new(&req)).await.unwrap_err();
    assert!(matches!(err, AuditError::NotLogged("request")));
    assert_eq!(
        err.to_string(),
        "no audit backend succeeded in logging the request"
    );
    assert_eq!(coffer_types::Error::from(err).status(), 500);

    // One working device is enough.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.log");
    enable_file(&mgr, "good", &good, json!({})).await;
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    assert_eq!(records(&good).len(), 1);
    let status = mgr.status().await;
    assert_eq!(status["devices"]["full/"]["ok"], false);
    assert_eq!(status["devices"]["good/"]["ok"], true);
}

#[tokio::test]
async fn a_socket_peer_that_stops_reading_hits_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // Accept and hold the connection without ever reading.
    let holder = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
    let mgr = manager(&memory(), AuditManagerOptions::default()).await;
    call(
        &mgr,
        Operation::Update,
        "audit/sock",
        json!({"type": "socket", "options": {"address": addr, "write_timeout": "300ms", "log_raw": "true"}}),
    )
    .await
    .unwrap();
    let _peer = holder.join().unwrap().unwrap();

    // log_raw keeps the blob in the record (HMAC-ed it would be 64 bytes).
    let big = "x".repeat(512 * 1024);
    let req = request("a", "secret/x", json!({"blob": big}));
    let mut failed = None;
    for i in 0..200 {
        // Each write ends within its 300 ms write timeout; the bound only
        // catches a write that never ends, with a margin no loaded machine
        // reaches.
        let outcome = tokio::time::timeout(
            Duration::from_secs(60),
            mgr.log_request(&AuditRequest::new(&req)),
        )
        .await
        .unwrap_or_else(|_| panic!("write {i} hung"));
        if let Err(e) = outcome {
            failed = Some((i, e));
            break;
        }
    }
    let (_, err) = failed.expect("the socket buffers never filled");
    assert!(matches!(err, AuditError::NotLogged("request")));
    let status = mgr.status().await;
    assert_eq!(status["devices"]["sock/"]["ok"], false, "{status:?}");
}

#[tokio::test]
async fn status_detects_truncated_and_deleted_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.log");
    let mgr = manager(&memory(), AuditManagerOptions::default()).await;
    enable_file(&mgr, "file", &file, json!({})).await;
    let req = request("a", "secret/x", json!({"v": "1"}));
    for _ in 0..4 {
        mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    }
    let status = mgr.status().await;
    assert_eq!(status["ok"], true, "{status:?}");
    assert_eq!(status["devices"]["file/"]["size"], 4);
    assert_eq!(status["devices"]["file/"]["file_last_seq"], 3);

    // Cut the last record off.
    let text = std::fs::read_to_string(&file).unwrap();
    let keep: usize = text.lines().take(3).map(|l| l.len() + 1).sum();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(keep as u64)
        .unwrap();
    let status = mgr.status().await;
    assert_eq!(status["ok"], false);
    let errors = status["devices"]["file/"]["errors"].to_string();
    assert!(errors.contains("was truncated"), "{errors}");
    assert_eq!(mgr.tamper_detected_total(), 1);
    // Asking again does not count the same problem twice.
    mgr.status().await;
    assert_eq!(mgr.tamper_detected_total(), 1);

    std::fs::remove_file(&file).unwrap();
    let status = mgr.status().await;
    let errors = status["devices"]["file/"]["errors"].to_string();
    assert!(errors.contains("was deleted"), "{errors}");
    assert_eq!(mgr.tamper_detected_total(), 2);
}

#[tokio::test]
async fn truncation_while_stopped_is_detected_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.log");
    let mem = memory();
    {
        let mgr = manager(&mem, AuditManagerOptions::default()).await;
        enable_file(&mgr, "file", &file, json!({})).await;
        let req = request("a", "secret/x", json!({}));
        for _ in 0..5 {
            mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
        }
        mgr.shutdown().await.unwrap();
    }
    std::fs::write(&file, b"").unwrap();
    let mgr = manager(&mem, AuditManagerOptions::default()).await;
    assert_eq!(mgr.tamper_detected_total(), 1);
    let status = mgr.status().await;
    assert_eq!(status["ok"], false);
    let errors = status["devices"]["file/"]["errors"].to_string();
    assert!(
        errors.contains("at start-up") && errors.contains("truncated"),
        "{errors}"
    );

    // The log continues after the gap; deleting the whole file while
    // stopped is detected too.
    let req = request("b", "secret/x", json!({}));
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    assert_eq!(records(&file)[0]["seq"], 5);
    mgr.shutdown().await.unwrap();
    drop(mgr);
    std::fs::remove_file(&file).unwrap();
    let mgr = manager(&mem, AuditManagerOptions::default()).await;
    let status = mgr.status().await;
    let errors = status["devices"]["file/"]["errors"].to_string();
    assert!(errors.contains("was deleted"), "{errors}");
}
