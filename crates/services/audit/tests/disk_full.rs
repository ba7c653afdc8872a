//! A file device whose disk fills up while the server runs: requests are
//! refused while it is full and accepted again once there is room, and the
//! file stays a valid log (no partial line, no skipped sequence number).
//!
//! Needs root to mount a 64 KiB tmpfs (CI runs as root); without it the
//! test skips through `skip_or_fail`, so under `COFFER_REQUIRE_SERVICES=1`
//! it fails instead of passing quietly.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use coffer_audit::{AuditError, AuditManagerOptions, AuditRequest};
use coffer_audit_log::{PublicKey, VerifyOptions, verify};
use coffer_test_services::require_environment;
use serde_json::json;

use common::{enable_file, manager, memory, records, request};

/// Unmounts the tmpfs even when the test fails.
struct Mount<'a>(&'a Path);

impl Drop for Mount<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

/// Fills the file system holding `path` until a write fails.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = [0u8; 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

#[tokio::test]
async fn a_full_disk_refuses_requests_until_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .output();
    let mounted = match mounted {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "mount -t tmpfs failed (needs root): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run mount: {e}")),
    };
    if require_environment("a_full_disk_refuses_requests_until_there_is_room", mounted).is_none() {
        return;
    }
    let _mount = Mount(&mnt);
    let file = mnt.join("audit.log");
    let filler = mnt.join("filler");

    let mgr = manager(&memory(), AuditManagerOptions::default()).await;
    enable_file(&mgr, "file", &file, json!({})).await;
    let req = request("a", "secret/x", json!({"payload": "y".repeat(600)}));
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();

    fill(&filler);
    // The audit file's last page may still hold a record or two; after that
    // every request is refused.
    let mut first_refusal = None;
    for i in 0..10 {
        if mgr.log_request(&AuditRequest::new(&req)).await.is_err() {
            first_refusal = Some(i);
            break;
        }
    }
    assert!(
        first_refusal.is_some(),
        "requests were accepted on a full disk"
    );
    for _ in 0..3 {
        let err = mgr.log_request(&AuditRequest::new(&req)).await.unwrap_err();
        assert!(matches!(err, AuditError::NotLogged("request")), "{err}");
    }
    let status = mgr.status().await;
    assert_eq!(status["devices"]["file/"]["ok"], false, "{status:?}");

    std::fs::remove_file(&filler).unwrap();
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    mgr.log_request(&AuditRequest::new(&req)).await.unwrap();
    let status = mgr.status().await;
    assert_eq!(status["devices"]["file/"]["ok"], true, "{status:?}");

    // Every line is whole and the sequence has no gap.
    let seqs: Vec<u64> = records(&file)
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>());
    mgr.shutdown().await.unwrap();
    let key: PublicKey = mgr.public_key().parse().unwrap();
    let report = verify(
        std::io::BufReader::new(std::fs::File::open(&file).unwrap()),
        &key,
        &VerifyOptions::default(),
    );
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.uncovered_records, 0);
}
