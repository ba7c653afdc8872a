//! Tamper tests on generated logs: 1000 records, a checkpoint every 100.

use std::io::Cursor;
use std::time::{Duration, SystemTime};

use coffer_audit_log::{
    CheckpointPolicy, CheckpointSigner, LogHead, Problem, PublicKey, Sealer, SearchFilter,
    VerifyOptions, VerifyReport, leaf_hash, prove, search, verify,
};
use serde_json::{Map, Value, json};

struct Log {
    lines: Vec<String>,
    key: PublicKey,
    signer_pkcs8: Vec<u8>,
}

const ORIGIN: &str = "coffer.audit/file";

fn record(i: u64) -> Map<String, Value> {
    let v = json!({
        "time": format!("2025-01-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60),
        "type": if i.is_multiple_of(2) { "request" } else { "response" },
        "auth": {
            "accessor": format!("hmac-sha256:acc{}", i % 3),
            "entity_id": format!("entity-{}", i % 5),
            "display_name": "userpass-alice",
        },
        "request": {
            "id": format!("req-{}", i / 2),
            "operation": if i.is_multiple_of(10) { "update" } else { "read" },
            "path": format!("secret/data/app{}/x{}", i % 4, i),
            "remote_address": format!("10.0.0.{}", i % 7),
            "data": {"value": format!("hmac-sha256:v{}", i % 11)},
        },
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn generate(n: u64) -> Log {
    let (signer, pkcs8) = CheckpointSigner::generate(ORIGIN).unwrap();
    let key = signer.public_key();
    let policy = CheckpointPolicy {
        every_records: 100,
        every: Duration::ZERO,
    };
    let mut sealer = Sealer::new(LogHead::empty(), signer, ORIGIN.into(), policy);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let mut lines = Vec::new();
    for i in 0..n {
        lines.push(String::from_utf8(sealer.seal(record(i))).unwrap());
        if let Some(cp) = sealer.checkpoint_if_due(now) {
            lines.push(String::from_utf8(cp).unwrap());
        }
    }
    Log {
        lines,
        key,
        signer_pkcs8: pkcs8.expose().clone(),
    }
}

/// Index into `lines` of record `seq` (checkpoints every 100 records).
fn idx(seq: u64) -> usize {
    (seq + seq / 100) as usize
}

fn text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn run(lines: &[String], key: &PublicKey, opts: &VerifyOptions) -> VerifyReport {
    verify(Cursor::new(text(lines)), key, opts)
}

fn check(lines: &[String], key: &PublicKey) -> VerifyReport {
    run(lines, key, &VerifyOptions::default())
}

#[test]
fn clean_log_verifies() {
    let log = generate(1000);
    assert_eq!(log.lines.len(), 1010);
    let r = check(&log.lines, &log.key);
    assert!(r.is_ok(), "{:?}", r.problems);
    assert_eq!(
        (r.records, r.checkpoints, r.checkpoints_verified),
        (1000, 10, 10)
    );
    assert_eq!(
        (r.tree_size, r.covered, r.uncovered_records),
        (1000, 1000, 0)
    );
    // The strict mode has nothing to add on a fully covered log.
    let strict = VerifyOptions {
        strict: true,
        ..Default::default()
    };
    assert!(run(&log.lines, &log.key, &strict).is_ok());
    // An empty file is a clean empty log.
    assert!(check(&[], &log.key).is_ok());
}

#[test]
fn one_modified_byte_in_record_500_is_pinpointed() {
    let mut log = generate(1000);
    let i = idx(500);
    log.lines[i] = log.lines[i].replacen("x500", "x501", 1);
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::ModifiedRecord {
            seq: 500,
            line: i as u64 + 1
        }]
    );
    // Every checkpoint still verifies: the tree uses the leaf record 501 vouches for.
    assert_eq!(r.checkpoints_verified, 10);
}

#[test]
fn a_modified_byte_that_breaks_the_json_is_still_record_500() {
    let mut log = generate(1000);
    let i = idx(500);
    log.lines[i].replace_range(0..1, "[");
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::ModifiedRecord {
            seq: 500,
            line: i as u64 + 1
        }]
    );
}

#[test]
fn the_last_record_before_a_checkpoint_is_pinpointed_by_the_checkpoint() {
    let mut log = generate(1000);
    let i = idx(999);
    log.lines[i] = log.lines[i].replacen("10.0.0.", "10.0.9.", 1);
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::ModifiedRecord {
            seq: 999,
            line: i as u64 + 1
        }]
    );
}

#[test]
fn modified_uncovered_record_is_found_by_the_chain() {
    let mut log = generate(1005);
    let i = idx(1002);
    log.lines[i] = log.lines[i].replacen("read", "list", 1);
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::ModifiedRecord {
            seq: 1002,
            line: i as u64 + 1
        }]
    );
    assert_eq!(r.uncovered_records, 5);
}

#[test]
fn a_rewritten_chain_is_caught_by_the_checkpoint() {
    // Modify record 950 and re-chain every later record: the chain is intact,
    // only the signed root can tell.
    let log = generate(1000);
    let mut records: Vec<Map<String, Value>> = log.lines[idx(900)..]
        .iter()
        .filter(|l| !l.contains("\"checkpoint\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut lines = log.lines[..idx(900)].to_vec();
    let mut prev = leaf_hash(log.lines[idx(899)].as_bytes());
    for r in &mut records {
        if r["seq"] == 950 {
            r.insert("error".into(), "forged".into());
        }
        r.insert("prev".into(), hex::encode(prev).into());
        let line = serde_json::to_string(&Value::Object(r.clone())).unwrap();
        prev = leaf_hash(line.as_bytes());
        lines.push(line);
    }
    lines.push(log.lines[idx(999) + 1].clone()); // checkpoint 1000
    let r = check(&lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::ModifiedRecord {
            seq: 999,
            line: lines.len() as u64 - 1
        }]
    );
}

#[test]
fn deleted_record_is_reported_and_the_rest_still_verifies() {
    let mut log = generate(1000);
    log.lines.remove(idx(500));
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::DeletedRecords {
            after_seq: Some(499),
            missing: 1
        }]
    );
    assert_eq!(r.checkpoints_verified, 10);
}

#[test]
fn deleted_run_of_records_and_first_record() {
    let log = generate(1000);
    let mut lines = log.lines.clone();
    lines.drain(idx(500)..idx(503));
    let r = check(&lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::DeletedRecords {
            after_seq: Some(499),
            missing: 3
        }]
    );
    let mut lines = log.lines.clone();
    lines.remove(0);
    let r = check(&lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::DeletedRecords {
            after_seq: None,
            missing: 1
        }]
    );
}

#[test]
fn deleted_records_before_a_checkpoint_at_the_end() {
    let mut log = generate(1000);
    log.lines.drain(idx(990)..idx(999) + 1); // keeps checkpoint 1000
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::DeletedRecords {
            after_seq: Some(989),
            missing: 10
        }]
    );
}

#[test]
fn swapped_neighbours_are_reordered() {
    let mut log = generate(1000);
    log.lines.swap(idx(500), idx(501));
    let mut r = check(&log.lines, &log.key);
    r.problems.sort_by_key(|p| format!("{p:?}"));
    assert_eq!(
        r.problems,
        [
            Problem::Reordered {
                seq: 500,
                line: idx(501) as u64 + 1
            },
            Problem::Reordered {
                seq: 501,
                line: idx(500) as u64 + 1
            },
        ]
    );
    assert_eq!(r.checkpoints_verified, 10);
}

#[test]
fn distant_swap_and_moved_record() {
    let mut log = generate(1000);
    log.lines.swap(idx(250), idx(750));
    let mut r = check(&log.lines, &log.key);
    r.problems.sort_by_key(|p| format!("{p:?}"));
    assert_eq!(
        r.problems,
        [
            Problem::Reordered {
                seq: 250,
                line: idx(750) as u64 + 1
            },
            Problem::Reordered {
                seq: 750,
                line: idx(250) as u64 + 1
            },
        ]
    );
    let mut log = generate(1000);
    let moved = log.lines.remove(idx(300));
    log.lines.insert(idx(600), moved);
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::Reordered {
            seq: 300,
            line: idx(600) as u64 + 1
        }]
    );
}

#[test]
fn duplicated_record_is_reported() {
    let mut log = generate(1000);
    let copy = log.lines[idx(10)].clone();
    log.lines.insert(idx(20), copy);
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::DuplicateRecord {
            seq: 10,
            line: idx(20) as u64 + 1
        }]
    );
}

#[test]
fn truncation_below_a_held_checkpoint_or_the_stored_head() {
    let log = generate(1000);
    let held = log.lines.last().unwrap().clone(); // checkpoint 1000, as a line
    let full = check(&log.lines, &log.key);
    let truncated = &log.lines[..idx(700)];
    // Without anything held, a clean cut at a checkpoint looks like a shorter log.
    assert!(check(truncated, &log.key).is_ok());

    let opts = VerifyOptions {
        from_checkpoint: Some(held.clone()),
        ..Default::default()
    };
    assert_eq!(
        run(truncated, &log.key, &opts).problems,
        [Problem::Truncated {
            expected_size: 1000,
            found: 700
        }]
    );
    assert!(run(&log.lines, &log.key, &opts).is_ok());

    let head = VerifyOptions {
        expected_head: Some((1000, full.root)),
        ..Default::default()
    };
    assert_eq!(
        run(truncated, &log.key, &head).problems,
        [Problem::Truncated {
            expected_size: 1000,
            found: 700
        }]
    );
    assert!(run(&log.lines, &log.key, &head).is_ok());
    let wrong = VerifyOptions {
        expected_head: Some((1000, [7; 32])),
        ..Default::default()
    };
    assert_eq!(
        run(&log.lines, &log.key, &wrong).problems,
        [Problem::RootMismatch {
            size: 1000,
            line: None
        }]
    );
}

#[test]
fn held_checkpoint_from_another_history_is_inconsistent() {
    let log = generate(1000);
    let signer = CheckpointSigner::from_pkcs8(ORIGIN, &log.signer_pkcs8).unwrap();
    let fork = signer.sign(ORIGIN, 500, &[9; 32]).unwrap();
    let opts = VerifyOptions {
        from_checkpoint: Some(fork.note),
        ..Default::default()
    };
    assert_eq!(
        run(&log.lines, &log.key, &opts).problems,
        [Problem::InconsistentCheckpoints {
            from: 500,
            to: 1000
        }]
    );
    // A held checkpoint signed by someone else is rejected outright.
    let (other, _) = CheckpointSigner::generate(ORIGIN).unwrap();
    let opts = VerifyOptions {
        from_checkpoint: Some(other.sign(ORIGIN, 10, &[1; 32]).unwrap().note),
        ..Default::default()
    };
    let r = run(&log.lines, &log.key, &opts);
    assert!(matches!(
        &r.problems[..],
        [Problem::ForgedCheckpoint { line: None, .. }]
    ));
}

#[test]
fn checkpoint_forged_with_another_key() {
    let mut log = generate(1000);
    let (other, _) = CheckpointSigner::generate(ORIGIN).unwrap();
    let mut forger = Sealer::new(
        LogHead::empty(),
        other,
        ORIGIN.into(),
        CheckpointPolicy::default(),
    );
    forger.seal(record(0));
    let forged = String::from_utf8(forger.checkpoint_now(SystemTime::UNIX_EPOCH)).unwrap();
    let i = idx(499) + 1; // checkpoint 500
    log.lines[i] = forged;
    let r = check(&log.lines, &log.key);
    match &r.problems[..] {
        [Problem::ForgedCheckpoint { line, reason }] => {
            assert_eq!(*line, Some(i as u64 + 1));
            assert!(reason.contains("no signature by key"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.checkpoints_verified, 9);
}

#[test]
fn edited_checkpoint_is_forged_and_a_valid_one_with_wrong_root_mismatches() {
    let mut log = generate(1000);
    let i = idx(499) + 1;
    log.lines[i] = log.lines[i].replacen("\\n500\\n", "\\n501\\n", 1);
    let r = check(&log.lines, &log.key);
    assert!(
        matches!(&r.problems[..], [Problem::ForgedCheckpoint { line: Some(l), .. }] if *l == i as u64 + 1),
        "{:?}",
        r.problems
    );

    // A genuinely signed checkpoint (key stolen) for the wrong root.
    let mut log = generate(1000);
    let signer = CheckpointSigner::from_pkcs8(ORIGIN, &log.signer_pkcs8).unwrap();
    let mut sealer = Sealer::new(
        LogHead::empty(),
        signer,
        ORIGIN.into(),
        CheckpointPolicy::default(),
    );
    for _ in 0..500 {
        sealer.seal(record(0));
    }
    log.lines[i] = String::from_utf8(sealer.checkpoint_now(SystemTime::UNIX_EPOCH)).unwrap();
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [Problem::RootMismatch {
            size: 500,
            line: Some(i as u64 + 1)
        }]
    );
}

#[test]
fn garbage_lines_are_malformed_and_checking_continues() {
    let mut log = generate(1000);
    log.lines.insert(idx(300), "this is not json".into());
    log.lines
        .insert(idx(600), "{\"type\":\"request\",\"unsealed\":true}".into());
    log.lines[idx(800) + 2] = log.lines[idx(800) + 2].replacen("x800", "x8O0", 1);
    let r = check(&log.lines, &log.key);
    assert_eq!(
        r.problems,
        [
            Problem::Malformed {
                line: idx(300) as u64 + 1,
                reason: "not a JSON object with valid seq/prev/type fields".into()
            },
            Problem::Malformed {
                line: idx(600) as u64 + 1,
                reason: "not a sealed record (no seq field) nor a checkpoint".into()
            },
            Problem::ModifiedRecord {
                seq: 800,
                line: idx(800) as u64 + 3
            },
        ]
    );
}

#[test]
fn uncovered_tail_warns_and_fails_when_strict() {
    let log = generate(1050);
    let r = check(&log.lines, &log.key);
    assert!(r.is_ok());
    assert_eq!((r.covered, r.uncovered_records), (1000, 50));
    let strict = VerifyOptions {
        strict: true,
        ..Default::default()
    };
    assert_eq!(
        run(&log.lines, &log.key, &strict).problems,
        [Problem::Uncovered {
            first_seq: 1000,
            count: 50
        }]
    );
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn random_damage_never_panics() {
    let log = generate(300);
    let bytes = text(&log.lines).into_bytes();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..200 {
        let mut damaged = bytes.clone();
        for _ in 0..(round % 7 + 1) {
            let r = xorshift(&mut state);
            let at = (r % damaged.len().max(1) as u64) as usize;
            match r % 5 {
                0 => damaged[at] ^= 1 << (r % 8),
                1 => {
                    damaged.remove(at);
                }
                2 => damaged.insert(at, b'\n'),
                3 => damaged.insert(at, 0xff),
                _ => damaged.truncate(at.max(1)),
            }
        }
        // Must return a report, whatever the damage.
        let r = verify(Cursor::new(damaged), &log.key, &VerifyOptions::default());
        assert!(r.records <= 400);
    }
}

#[test]
fn every_flipped_bit_in_a_covered_record_is_detected() {
    let log = generate(300);
    let mut state = 0x1234_5678_9abc_def1u64;
    for _ in 0..150 {
        let mut lines = log.lines.clone();
        let seq = xorshift(&mut state) % 300;
        let line = &mut lines[idx(seq)];
        let mut bytes = std::mem::take(line).into_bytes();
        let at = (xorshift(&mut state) % bytes.len() as u64) as usize;
        bytes[at] ^= 1 << (xorshift(&mut state) % 7);
        let damaged = String::from_utf8_lossy(&bytes).into_owned();
        if damaged.contains('\n') {
            continue; // a new line break is a different damage
        }
        *line = damaged;
        let r = check(&lines, &log.key);
        assert!(
            !r.is_ok(),
            "flip in record {seq} at byte {at} went unnoticed"
        );
    }
}

#[test]
fn inclusion_proofs_verify_and_fail_when_tampered() {
    let log = generate(1050);
    let file = text(&log.lines);
    let proof = prove(Cursor::new(&file), 500).unwrap();
    assert_eq!((proof.seq, proof.tree_size), (500, 1000));
    proof.verify(&log.key).unwrap();
    // Round-trips through JSON (the CLI's output).
    let json = serde_json::to_string(&proof).unwrap();
    let back: coffer_audit_log::InclusionProof = serde_json::from_str(&json).unwrap();
    back.verify(&log.key).unwrap();

    let mut bad = proof.clone();
    bad.record = bad.record.replacen("x500", "x501", 1);
    assert!(bad.verify(&log.key).is_err());
    let mut bad = proof.clone();
    bad.path[3][0] ^= 1;
    assert!(bad.verify(&log.key).is_err());
    let mut bad = proof.clone();
    bad.seq = 501;
    assert!(bad.verify(&log.key).is_err());
    let (other, _) = CheckpointSigner::generate(ORIGIN).unwrap();
    assert!(proof.verify(&other.public_key()).is_err());

    // Records past the newest checkpoint, or absent, have no proof.
    assert!(prove(Cursor::new(&file), 1020).is_err());
    assert!(prove(Cursor::new(&file), 5000).is_err());
    // Every record of a small log has a verifying proof.
    let small = generate(130);
    let file = text(&small.lines);
    for seq in 0..100 {
        prove(Cursor::new(&file), seq)
            .unwrap()
            .verify(&small.key)
            .unwrap();
    }
}

#[test]
fn search_filters() {
    let log = generate(200);
    let file = text(&log.lines);
    let find = |f: SearchFilter| -> Vec<u64> {
        search(Cursor::new(&file), f)
            .map(|r| r.unwrap().seq().unwrap())
            .collect()
    };
    assert_eq!(find(SearchFilter::default()).len(), 200);
    let by_path = find(SearchFilter {
        path_prefix: Some("secret/data/app1/".into()),
        ..Default::default()
    });
    assert_eq!(by_path.len(), 50);
    assert!(by_path.iter().all(|s| s % 4 == 1));
    assert_eq!(
        find(SearchFilter {
            path_prefix: Some("secret/data/app1/x13".into()),
            ..Default::default()
        }),
        [13, 133, 137]
    );
    let combo = find(SearchFilter {
        entity_id: Some("entity-0".into()),
        operation: Some("update".into()),
        record_type: Some("request".into()),
        ..Default::default()
    });
    assert_eq!(combo, (0..200).step_by(10).collect::<Vec<_>>());
    let by_accessor = find(SearchFilter {
        accessor_hash: Some("hmac-sha256:acc2".into()),
        remote_address: Some("10.0.0.3".into()),
        ..Default::default()
    });
    assert_eq!(
        by_accessor,
        (0..200)
            .filter(|s| s % 3 == 2 && s % 7 == 3)
            .collect::<Vec<_>>()
    );
    assert_eq!(by_accessor.len(), 9);
    let by_time = find(SearchFilter {
        since: Some(time::macros::datetime!(2025-01-01 00:01:00 UTC)),
        until: Some(time::macros::datetime!(2025-01-01 00:01:09 UTC)),
        ..Default::default()
    });
    assert_eq!(by_time, (60..70).collect::<Vec<_>>());
    let by_value = find(SearchFilter {
        hashed_values: vec!["hmac-sha256:v4".into(), "hmac-sha256:nothing".into()],
        ..Default::default()
    });
    assert_eq!(
        by_value,
        (0..200).filter(|s| s % 11 == 4).collect::<Vec<_>>()
    );
}
