//! `coffer audit verify|prove|verify-proof|search` on generated sealed logs:
//! exit codes, messages and JSON output for intact and tampered files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use coffer_audit_log::{CheckpointPolicy, CheckpointSigner, InclusionProof, LogHead, Sealer};
use serde_json::{Map, Value, json};

struct Fixture {
    dir: tempfile::TempDir,
    lines: Vec<String>,
    key: String,
}

/// `n` sealed records with a checkpoint every 100.
fn fixture(n: u64) -> Fixture {
    let (signer, _) = CheckpointSigner::generate("coffer.audit/file").unwrap();
    let key = signer.public_key().to_string();
    let policy = CheckpointPolicy {
        every_records: 100,
        every: Duration::ZERO,
    };
    let mut sealer = Sealer::new(LogHead::empty(), signer, "coffer.audit/file".into(), policy);
    let mut lines = Vec::new();
    for i in 0..n {
        let Value::Object(record) = json!({
            "time": "2025-01-01T00:00:00Z",
            "type": "request",
            "auth": {"entity_id": format!("entity-{}", i % 3)},
            "request": {
                "operation": "read",
                "path": format!("secret/data/app/x{i}"),
                "remote_address": "10.0.0.1",
            },
        }) else {
            unreachable!()
        };
        lines.push(String::from_utf8(sealer.seal(record)).unwrap());
        if let Some(cp) = sealer.checkpoint_if_due(SystemTime::UNIX_EPOCH) {
            lines.push(String::from_utf8(cp).unwrap());
        }
    }
    Fixture {
        dir: tempfile::tempdir().unwrap(),
        lines,
        key,
    }
}

/// Line index of record `seq`.
fn idx(seq: usize) -> usize {
    seq + seq / 100
}

impl Fixture {
    fn write(&self, name: &str, lines: &[String]) -> PathBuf {
        let path = self.dir.path().join(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn coffer(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_coffer"))
            .args(args)
            .env("HOME", self.dir.path())
            .env("VAULT_ADDR", "http://127.0.0.1:1")
            .env_remove("VAULT_TOKEN")
            .env_remove("COFFER_ADDR")
            .env_remove("VAULT_FORMAT")
            .env_remove("COFFER_FORMAT")
            .output()
            .unwrap()
    }

    fn verify(&self, file: &Path, extra: &[&str]) -> Output {
        let key = format!("-public-key={}", self.key);
        let file = file.display().to_string();
        let mut args = vec!["audit", "verify", file.as_str(), key.as_str()];
        args.extend_from_slice(extra);
        self.coffer(&args)
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn verify_intact_and_tampered_logs() {
    let f = fixture(1000);
    let good = f.write("good.log", &f.lines);
    let out = f.verify(&good, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Success! The audit log is intact."));
    assert!(stdout(&out).contains("Records"));

    let out = f.verify(&good, &["-format=json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["records"], 1000);
    assert_eq!(report["checkpoints_verified"], 10);

    // One modified byte in record 500.
    let mut lines = f.lines.clone();
    lines[idx(500)] = lines[idx(500)].replacen("x500", "x5O0", 1);
    let modified = f.write("modified.log", &lines);
    let out = f.verify(&modified, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ERROR: record 500 (line 506) was modified"),
        "{}",
        stderr(&out)
    );
    let out = f.verify(&modified, &["-format=json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["problems"],
        json!([{"problem": "modified_record", "seq": 500, "line": 506}])
    );

    // A deleted record, two swapped records, a forged checkpoint, garbage.
    let mut deleted = f.lines.clone();
    deleted.remove(idx(300));
    let mut swapped = f.lines.clone();
    swapped.swap(idx(10), idx(11));
    let mut forged = f.lines.clone();
    let (other, _) = CheckpointSigner::generate("coffer.audit/file").unwrap();
    let mut forger = Sealer::new(
        LogHead::empty(),
        other,
        "coffer.audit/file".into(),
        CheckpointPolicy::default(),
    );
    forger.seal(Map::new());
    forged[idx(99) + 1] = String::from_utf8(forger.checkpoint_now(SystemTime::UNIX_EPOCH)).unwrap();
    let mut garbage = f.lines.clone();
    garbage.insert(7, "not an audit record".into());
    for (name, lines, want) in [
        ("deleted", deleted, "1 record(s) deleted after record 299"),
        ("swapped", swapped, "record 10 is out of order"),
        ("forged", forged, "forged checkpoint at line 101"),
        ("garbage", garbage, "line 8 is malformed"),
    ] {
        let path = f.write(&format!("{name}.log"), &lines);
        let out = f.verify(&path, &[]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains(want), "{name}: {}", stderr(&out));
    }
}

#[test]
fn truncation_uncovered_tail_and_strict() {
    let f = fixture(1050);
    let good = f.write("audit.log", &f.lines);
    let out = f.verify(&good, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("WARNING: 50 record(s) after the newest checkpoint"),
        "{}",
        stderr(&out)
    );
    let out = f.verify(&good, &["-strict"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("50 record(s) from record 1000 on are not covered"));

    // Hold checkpoint 1000 (its line, in a file), then truncate the log.
    let held = f.write("held.checkpoint", &[f.lines[idx(999) + 1].clone()]);
    let truncated = f.write("truncated.log", &f.lines[..idx(600)]);
    let held_arg = format!("-from-checkpoint={}", held.display());
    let out = f.verify(&truncated, &[&held_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("log truncated: 1000 records expected, 600 found"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.verify(&good, &[&held_arg]).status.code(), Some(0));
}

#[test]
fn prove_and_verify_proof() {
    let f = fixture(1000);
    let log = f.write("audit.log", &f.lines);
    let log_arg = log.display().to_string();
    let out = f.coffer(&["audit", "prove", &log_arg, "-seq=500", "-format=json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let proof: InclusionProof = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((proof.seq, proof.tree_size), (500, 1000));
    proof.verify(&f.key.parse().unwrap()).unwrap();

    let proof_file = f.dir.path().join("proof.json");
    std::fs::write(&proof_file, &out.stdout).unwrap();
    let key_arg = format!("-public-key={}", f.key);
    let pf = proof_file.display().to_string();
    let out = f.coffer(&["audit", "verify-proof", &pf, &key_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Success! Record 500 is in the log of 1000 records"));

    let mut bad = proof.clone();
    bad.record = bad.record.replacen("x500", "x501", 1);
    std::fs::write(&proof_file, serde_json::to_vec(&bad).unwrap()).unwrap();
    let out = f.coffer(&["audit", "verify-proof", &pf, &key_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not hash to the leaf"));

    // Table output, and verification while proving.
    let out = f.coffer(&["audit", "prove", &log_arg, "--seq", "7", &key_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("tree_size"));
    assert!(stdout(&out).contains("coffer.audit/file\n1000\n"));
    let out = f.coffer(&["audit", "prove", &log_arg, "-seq=5000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("record 5000 is not in the audit log"));
}

#[test]
fn search_prints_json_lines_and_tables() {
    let f = fixture(200);
    let log = f.write("audit.log", &f.lines);
    let log_arg = log.display().to_string();
    let out = f.coffer(&[
        "audit",
        "search",
        &log_arg,
        "-path-prefix=secret/data/app/x1",
        "-entity-id=entity-1",
        "-format=json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seqs: Vec<u64> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let want: Vec<u64> = (0..200)
        .filter(|i| i.to_string().starts_with('1') && i % 3 == 1)
        .collect();
    assert_eq!(seqs, want);

    let out = f.coffer(&[
        "audit",
        "search",
        &log_arg,
        "-path-prefix=secret/data/app/x42",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let table = stdout(&out);
    assert!(table.starts_with("Time"), "{table}");
    assert!(table.contains("secret/data/app/x42"));
    assert_eq!(table.lines().count(), 3, "{table}");

    let out = f.coffer(&["audit", "search", &log_arg, "-since=not-a-time"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn public_key_needs_a_server() {
    let f = fixture(1);
    let out = f.coffer(&["audit", "public-key"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // verify without -public-key falls back to the server too.
    let log = f.write("audit.log", &f.lines);
    let out = f.coffer(&["audit", "verify", &log.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("No -public-key given"),
        "{}",
        stderr(&out)
    );
}
