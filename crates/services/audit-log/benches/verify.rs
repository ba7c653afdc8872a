//! Generates a 1,000,000-record sealed audit log (checkpoint every 1000
//! records) in a temporary file and times the offline verifier on it.
//! Run with `cargo bench -p coffer-audit-log --bench verify`; set
//! `COFFER_BENCH_RECORDS` to change the count.

use std::io::{BufReader, BufWriter, Write};
use std::time::{Duration, Instant, SystemTime};

use coffer_audit_log::{
    CheckpointPolicy, CheckpointSigner, LogHead, Sealer, VerifyOptions, verify,
};
use serde_json::{Map, Value, json};

fn record(i: u64) -> Map<String, Value> {
    let v = json!({
        "time": "2025-01-01T00:00:00.123456789Z",
        "type": if i.is_multiple_of(2) { "request" } else { "response" },
        "auth": {
            "client_token": "hmac-sha256:4f1c8f7a2a6b0e1d3c5b7a9f8e6d4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d",
            "accessor": "hmac-sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
            "display_name": "approle",
            "policies": ["default", "app"],
            "entity_id": format!("entity-{}", i % 97),
            "token_type": "service"
        },
        "request": {
            "id": format!("req-{}", i / 2),
            "operation": "read",
            "mount_type": "kv",
            "path": format!("secret/data/app/{}", i % 1000),
            "remote_address": "10.0.0.7",
            "namespace": {"id": "root"}
        }
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::var("COFFER_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (signer, _) = CheckpointSigner::generate("coffer.audit/file")?;
    let key = signer.public_key();
    let policy = CheckpointPolicy {
        every_records: 1000,
        every: Duration::ZERO,
    };
    let mut sealer = Sealer::new(LogHead::empty(), signer, "coffer.audit/file".into(), policy);
    let file = tempfile::NamedTempFile::new()?;
    let start = Instant::now();
    {
        let mut out = BufWriter::new(file.as_file());
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
        for i in 0..n {
            out.write_all(&sealer.seal(record(i)))?;
            out.write_all(b"\n")?;
            if let Some(cp) = sealer.checkpoint_if_due(now) {
                out.write_all(&cp)?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()?;
    }
    let bytes = file.as_file().metadata()?.len();
    println!(
        "generated {n} records ({} MB) in {:.2?}",
        bytes / 1_000_000,
        start.elapsed()
    );

    let start = Instant::now();
    let report = verify(
        BufReader::with_capacity(1 << 20, std::fs::File::open(file.path())?),
        &key,
        &VerifyOptions::default(),
    );
    let took = start.elapsed();
    println!(
        "verified {} records, {} checkpoints ({} verified) in {took:.2?} ({:.0} records/s); ok = {}",
        report.records,
        report.checkpoints,
        report.checkpoints_verified,
        report.records as f64 / took.as_secs_f64(),
        report.is_ok()
    );
    if !report.is_ok() {
        return Err(format!("unexpected problems: {:?}", report.problems).into());
    }
    Ok(())
}
