//! The audit-log verifier (`coffer_audit_log::verify`) on arbitrary bytes
//! and on damaged copies of a real sealed log (fixed signing key, so runs
//! reproduce). It must report, never panic; the untouched log verifies.
//!
//! The first input byte picks the mode:
//! - 0: the rest is the whole file,
//! - 1: a patch of the real log (two bytes of offset, then the bytes
//!   written there),
//! - 2: line surgery on the real log (each byte pair deletes, duplicates,
//!   swaps or truncates lines),
//! - 3: the real log verified against a held checkpoint, expected head and
//!   origin taken from the rest of the input (lines: note, size, origin).
#![no_main]

use std::io::Cursor;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use coffer_audit_log::{
    CheckpointPolicy, CheckpointSigner, LogHead, PublicKey, Sealer, VerifyOptions, verify,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const ORIGIN: &str = "coffer.audit/file";

struct Fixture {
    key: PublicKey,
    lines: Vec<Vec<u8>>,
    root: coffer_audit_log::Hash,
    size: u64,
}

fn record(i: u64) -> Map<String, Value> {
    let v = json!({
        "time": format!("2025-01-01T00:00:{:02}Z", i % 60),
        "type": if i.is_multiple_of(2) { "request" } else { "response" },
        "auth": {"accessor": format!("hmac-sha256:acc{}", i % 3)},
        "request": {"id": format!("req-{}", i / 2), "path": format!("secret/data/x{i}")},
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // An Ed25519 PKCS#8 v1 document with a fixed seed: a throwaway key
        // used only to sign this in-memory log.
        let mut pkcs8 = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        pkcs8.extend_from_slice(&[9u8; 32]);
        let signer = CheckpointSigner::from_pkcs8(ORIGIN, &pkcs8).expect("a valid PKCS#8 key");
        let key = signer.public_key();
        let policy = CheckpointPolicy {
            every_records: 3,
            every: Duration::ZERO,
        };
        let mut sealer = Sealer::new(LogHead::empty(), signer, ORIGIN.into(), policy);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
        let mut lines = Vec::new();
        for i in 0..8 {
            lines.push(sealer.seal(record(i)));
            if let Some(cp) = sealer.checkpoint_if_due(now) {
                lines.push(cp);
            }
        }
        lines.push(sealer.checkpoint_now(now));
        let head = sealer.head();
        let fixture = Fixture {
            key,
            lines,
            root: head.root(),
            size: head.size,
        };
        let report = verify(Cursor::new(join(&fixture.lines)), &fixture.key, &opts());
        assert!(report.is_ok(), "the untouched log must verify: {report:?}");
        fixture
    })
}

fn opts() -> VerifyOptions {
    VerifyOptions::default()
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            let _ = verify(Cursor::new(rest), &f.key, &opts());
        }
        1 => {
            let Some((offset, patch)) = rest.split_first_chunk::<2>() else {
                return;
            };
            let mut file = join(&f.lines);
            let at = usize::from(u16::from_le_bytes(*offset)) % (file.len() + 1);
            let end = at + patch.len();
            // A patch past the end grows the file (with newlines, so empty
            // lines): that changes the log even where the bytes match.
            let grows = end > file.len();
            if grows {
                file.resize(end, b'\n');
            }
            let unchanged = !grows && file[at..end] == *patch;
            file[at..end].copy_from_slice(patch);
            let report = verify(Cursor::new(file), &f.key, &opts());
            if unchanged {
                assert!(report.is_ok(), "an unchanged log failed: {report:?}");
            }
        }
        2 => {
            let mut lines = f.lines.clone();
            for op in rest.chunks_exact(2).take(16) {
                if lines.is_empty() {
                    break;
                }
                let i = usize::from(op[1]) % lines.len();
                match op[0] % 4 {
                    0 => {
                        lines.remove(i);
                    }
                    1 => lines.insert(i, lines[i].clone()),
                    2 => {
                        let j = (i + 1) % lines.len();
                        lines.swap(i, j);
                    }
                    _ => {
                        let keep = lines[i].len() / 2;
                        lines[i].truncate(keep);
                    }
                }
            }
            let _ = verify(Cursor::new(join(&lines)), &f.key, &opts());
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let mut parts = text.split('\n');
            let note = parts.next().unwrap_or_default().replace("\\n", "\n");
            let size = parts.next().and_then(|s| s.parse::<u64>().ok());
            let origin = parts.next().map(str::to_owned);
            let options = VerifyOptions {
                from_checkpoint: (!note.is_empty()).then_some(note),
                expected_head: Some((size.unwrap_or(f.size), f.root)),
                strict: size.is_some_and(|s| s % 2 == 0),
                origin,
            };
            let _ = verify(Cursor::new(join(&f.lines)), &f.key, &options);
        }
    }
});
