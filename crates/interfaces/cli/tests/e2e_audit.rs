//! The audit trail from a real server: every request recorded, secrets only
//! HMAC-ed, the file verifies offline against the server's public key, and
//! tampering, truncation or deletion is reported.

mod support;

use std::process::Command;

use serde_json::json;
use support::{Api, ServerProcess, coffer_bin};

const ROOT: &str = "audit-e2e-root";
const CANARY: &str = "canary-audit-e2e-77aa";

fn verify(file: &std::path::Path, key: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::new(coffer_bin())
        .args(["audit", "verify", &format!("-public-key={key}")])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_from_a_real_server_verifies_and_reports_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let server = ServerProcess::start(
        &[
            "-dev",
            "-dev-listen-address=127.0.0.1:0",
            &format!("-dev-root-token-id={ROOT}"),
        ],
        dir.path(),
        false,
    );
    let mut api = Api::new(&server.addr, None);
    api.token = Some(ROOT.into());
    let (status, body) = api
        .put(
            "sys/audit/file",
            json!({"type": "file", "options": {"file_path": log.display().to_string()}}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    for i in 0..30 {
        assert_eq!(
            api.put(
                &format!("secret/data/app{i}"),
                json!({"data": {"password": CANARY}})
            )
            .await
            .0,
            200
        );
        assert_eq!(api.get(&format!("secret/data/app{i}")).await.0, 200);
    }
    let (_, key) = api.get("sys/audit-log/public-key").await;
    let key = key["data"]["public_key"].as_str().unwrap().to_owned();
    let (_, status) = api.get("sys/audit-log/status").await;
    assert!(status["data"].to_string().contains("file/"), "{status}");
    // Sealing writes a final checkpoint, so the whole file is covered.
    assert_eq!(api.put("sys/seal", json!({})).await.0, 204);

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains(CANARY) && !text.contains(ROOT),
        "secret or token in clear"
    );
    assert!(text.contains("\"checkpoint\""));
    let (code, out) = verify(&log, &key, &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(&log, &key, &["-strict"]);
    assert_eq!(code, 0, "fully covered after seal: {out}");

    // Modify one byte of a record in the middle: reported with its sequence number.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let target = lines
        .iter()
        .position(|l| l.contains("\"seq\":20,") || l.contains("\"seq\": 20"))
        .expect("record 20");
    lines[target] = lines[target].replacen("secret/data", "secret/dbta", 1);
    let tampered = dir.path().join("tampered.log");
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();
    let (code, out) = verify(&tampered, &key, &[]);
    assert_ne!(code, 0, "tampering must fail: {out}");
    assert!(out.contains("20"), "names the modified record: {out}");

    // Truncation and a wrong key are failures too.
    let truncated = dir.path().join("truncated.log");
    std::fs::write(
        &truncated,
        text.lines().take(10).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let (code, out) = verify(&truncated, &key, &["-strict"]);
    assert_ne!(code, 0, "{out}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_declared_in_the_config_cannot_be_removed_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("declared.log");
    let config = dir.path().join("audit.hcl");
    std::fs::write(
        &config,
        format!(
            "storage \"inmem\" {{}}\ndisable_mlock = true\ndisable_api_audit_creation = true\nlistener \"tcp\" {{\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}}\naudit \"file\" {{\n  path = \"declared\"\n  options = {{\n    file_path = \"{}\"\n  }}\n}}\n",
            log.display()
        ),
    )
    .unwrap();
    let server = ServerProcess::start(
        &[&format!("-config={}", config.display())],
        dir.path(),
        false,
    );
    let mut api = Api::new(&server.addr, None);
    let (_, init) = api
        .put(
            "sys/init",
            json!({"secret_shares": 1, "secret_threshold": 1}),
        )
        .await;
    support::unseal(&api, &[init["keys"][0].as_str().unwrap()]).await;
    api.token = Some(init["root_token"].as_str().unwrap().to_owned());

    let (_, listed) = api.get("sys/audit").await;
    assert!(listed["data"].get("declared/").is_some(), "{listed}");
    assert_eq!(api.get("sys/mounts").await.0, 200);
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("sys/mounts"),
        "requests are audited from the first unseal"
    );
    let (status, body) = api.call("DELETE", "sys/audit/declared", None).await;
    assert_eq!(
        status, 400,
        "a declared device cannot be disabled over the API: {body}"
    );
    let other = dir.path().join("other.log");
    let (status, _) = api
        .put(
            "sys/audit/other",
            json!({"type": "file", "options": {"file_path": other.display().to_string()}}),
        )
        .await;
    assert_eq!(status, 400, "API creation is switched off");
    assert!(!other.exists());

    // Deleting the log while the server runs is detected.
    std::fs::remove_file(&log).unwrap();
    let (_, status) = api.get("sys/audit-log/status").await;
    let text = status.to_string();
    assert!(
        text.contains("declared/")
            && (text.contains("missing") || text.contains("deleted") || text.contains("error")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reopens_the_audit_file_after_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("rotating.log");
    let config = dir.path().join("rotate.hcl");
    std::fs::write(
        &config,
        format!(
            "storage \"inmem\" {{}}\ndisable_mlock = true\nlistener \"tcp\" {{\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}}\naudit \"file\" {{\n  options = {{\n    file_path = \"{}\"\n  }}\n}}\n",
            log.display()
        ),
    )
    .unwrap();
    let server = ServerProcess::start(
        &[&format!("-config={}", config.display())],
        dir.path(),
        false,
    );
    let mut api = Api::new(&server.addr, None);
    let (_, init) = api
        .put(
            "sys/init",
            json!({"secret_shares": 1, "secret_threshold": 1}),
        )
        .await;
    support::unseal(&api, &[init["keys"][0].as_str().unwrap()]).await;
    api.token = Some(init["root_token"].as_str().unwrap().to_owned());
    assert_eq!(api.get("sys/mounts").await.0, 200);

    let rotated = dir.path().join("rotating.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The reopen is asynchronous: poll (bounded) until the new file appears.
    let mut reopened = false;
    for _ in 0..100 {
        assert_eq!(api.get("sys/auth").await.0, 200);
        if std::fs::read_to_string(&log).is_ok_and(|t| t.contains("\"sys/auth\"")) {
            reopened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        reopened,
        "no new audit file after SIGHUP:\n{}",
        server.output()
    );
    assert!(
        std::fs::read_to_string(&rotated)
            .unwrap()
            .contains("sys/mounts")
    );
}
