//! The sealer: turns audit records into chained, Merkle-logged JSON lines and
//! emits signed checkpoint lines on a count-or-time policy.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::checkpoint::{Checkpoint, CheckpointSigner};
use crate::head::LogHead;
use crate::merkle::{frontier_append, leaf_hash};

/// When checkpoints are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Write a checkpoint after this many new records (0 disables the count
    /// trigger).
    pub every_records: u64,
    /// Write a checkpoint when this much time has passed since the last one
    /// and records were added (zero disables the time trigger).
    pub every: Duration,
}

impl Default for CheckpointPolicy {
    /// 1000 records or 10 seconds, whichever comes first.
    fn default() -> Self {
        Self {
            every_records: 1000,
            every: Duration::from_secs(10),
        }
    }
}

/// A checkpoint line as written to the log. Field order is fixed.
#[derive(Serialize)]
struct CheckpointLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    size: u64,
    root: String,
    checkpoint: &'a str,
}

/// Seals records of one device's log. Holds the log head, which the caller
/// persists after every write ([`Sealer::head`]).
#[derive(Debug)]
pub struct Sealer {
    head: LogHead,
    signer: CheckpointSigner,
    origin: String,
    policy: CheckpointPolicy,
}

impl Sealer {
    /// A sealer continuing the log described by `head` (use
    /// [`LogHead::empty`] for a new log; check loaded heads with
    /// [`LogHead::validate`]). `origin` is the checkpoints' origin line,
    /// normally [`crate::default_origin`] of the device path; an empty or
    /// multi-line origin is replaced by the signer's key name.
    pub fn new(
        head: LogHead,
        signer: CheckpointSigner,
        origin: String,
        policy: CheckpointPolicy,
    ) -> Self {
        let origin = if origin.is_empty() || origin.contains('\n') {
            signer.public_key().name().to_owned()
        } else {
            origin
        };
        Self {
            head,
            signer,
            origin,
            policy,
        }
    }

    /// Adds `"seq"` (the record's index, from 0) and `"prev"` (hex of the
    /// previous record's leaf hash, 64 zeros for the first) to `record`,
    /// serialises it as one JSON line (no trailing newline), appends
    /// `leaf = SHA-256(0x00 || line)` to the chain and tree, and returns the
    /// line. Any existing `seq`/`prev` fields are replaced.
    pub fn seal(&mut self, mut record: Map<String, Value>) -> Vec<u8> {
        record.insert("seq".into(), Value::from(self.head.size));
        record.insert("prev".into(), Value::from(hex::encode(self.head.prev_leaf)));
        // Serialising a `Value` into a Vec cannot fail: every map key is a
        // string and writing to memory has no I/O errors.
        let line = serde_json::to_vec(&Value::Object(record)).unwrap_or_default();
        let leaf = leaf_hash(&line);
        frontier_append(&mut self.head.frontier, self.head.size, leaf);
        self.head.size += 1;
        self.head.prev_leaf = leaf;
        line
    }

    /// A checkpoint line when one is due: the tree grew since the last
    /// checkpoint and either `every_records` records were added or `every`
    /// has passed since the last checkpoint (with the time trigger on, a
    /// log's first checkpoint follows its first record).
    /// Updates the head when it returns a line.
    pub fn checkpoint_if_due(&mut self, now: SystemTime) -> Option<Vec<u8>> {
        let covered = self.head.last_checkpoint.as_ref().map_or(0, |c| c.size);
        if self.head.size <= covered {
            return None;
        }
        let by_count =
            self.policy.every_records > 0 && self.head.size - covered >= self.policy.every_records;
        let by_time = !self.policy.every.is_zero()
            && self.head.last_checkpoint_time.is_none_or(|last| {
                now.duration_since(last).unwrap_or(Duration::ZERO) >= self.policy.every
            });
        (by_count || by_time).then(|| self.checkpoint_now(now))
    }

    /// Signs a checkpoint of the current tree now and returns its line
    /// (`{"type":"checkpoint","time":..,"size":N,"root":"<b64>","checkpoint":"<note>"}`,
    /// no trailing newline). Updates the head.
    pub fn checkpoint_now(&mut self, now: SystemTime) -> Vec<u8> {
        let root = self.head.root();
        let checkpoint = self
            .signer
            .sign(&self.origin, self.head.size, &root)
            // Signing fails only for an empty or multi-line origin, which
            // `Sealer::new` replaced with the (validated) key name.
            .unwrap_or_else(|_| Checkpoint {
                origin: self.origin.clone(),
                size: self.head.size,
                root,
                note: String::new(),
            });
        let line = CheckpointLine {
            kind: "checkpoint",
            time: coffer_types::timestamp::rfc3339(now),
            size: checkpoint.size,
            root: B64.encode(checkpoint.root),
            checkpoint: &checkpoint.note,
        };
        // Serialising this plain struct into memory cannot fail.
        let bytes = serde_json::to_vec(&line).unwrap_or_default();
        self.head.last_checkpoint = Some(checkpoint);
        self.head.last_checkpoint_time = Some(now);
        bytes
    }

    /// The current log head, to persist after every write.
    pub fn head(&self) -> &LogHead {
        &self.head
    }

    /// The checkpoint origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key of the checkpoint signer.
    pub fn public_key(&self) -> crate::PublicKey {
        self.signer.public_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::root_of;
    use crate::note::PublicKey;
    use serde_json::json;

    fn rec(i: u64) -> Map<String, Value> {
        match json!({"type": "request", "time": "2025-01-01T00:00:00Z", "request": {"path": format!("p/{i}")}})
        {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn sealer(policy: CheckpointPolicy) -> (Sealer, PublicKey, Vec<u8>) {
        let (signer, pkcs8) = CheckpointSigner::generate("coffer.audit/file").unwrap();
        let key = signer.public_key();
        let s = Sealer::new(LogHead::empty(), signer, "coffer.audit/file".into(), policy);
        (s, key, pkcs8.expose().clone())
    }

    #[test]
    fn seal_chains_and_builds_the_tree() {
        let (mut s, _, _) = sealer(CheckpointPolicy::default());
        let mut leaves = Vec::new();
        let mut prev = [0u8; 32];
        for i in 0..5 {
            let mut r = rec(i);
            r.insert("seq".into(), Value::from("spoofed"));
            let line = s.seal(r);
            assert!(!line.contains(&b'\n'));
            let v: Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(v["seq"], i);
            assert_eq!(v["prev"], hex::encode(prev));
            assert_eq!(v["request"]["path"], format!("p/{i}"));
            prev = leaf_hash(&line);
            leaves.push(prev);
        }
        let head = s.head();
        assert_eq!((head.size, head.prev_leaf), (5, prev));
        assert_eq!(head.root(), root_of(&leaves));
        head.validate().unwrap();
    }

    #[test]
    fn checkpoint_lines_are_signed_c2sp_checkpoints() {
        let (mut s, key, _) = sealer(CheckpointPolicy::default());
        s.seal(rec(0));
        s.seal(rec(1));
        let now = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_735_689_600_123_456_789);
        let line = s.checkpoint_now(now);
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["type"], "checkpoint");
        assert_eq!(v["time"], "2025-01-01T00:00:00.123456789Z");
        assert_eq!(v["size"], 2);
        assert_eq!(v["root"], B64.encode(s.head().root()));
        let cp = Checkpoint::open(v["checkpoint"].as_str().unwrap(), &key).unwrap();
        assert_eq!(
            (cp.origin.as_str(), cp.size, cp.root),
            ("coffer.audit/file", 2, s.head().root())
        );
        assert_eq!(s.head().last_checkpoint.as_ref(), Some(&cp));
        assert_eq!(s.head().last_checkpoint_time, Some(now));
        assert!(line.starts_with(br#"{"type":"checkpoint","time":"#));
    }

    #[test]
    fn policy_by_count_and_by_time() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let (mut s, _, _) = sealer(CheckpointPolicy {
            every_records: 3,
            every: Duration::from_secs(10),
        });
        assert!(s.checkpoint_if_due(t0).is_none(), "nothing to cover");
        s.seal(rec(0));
        assert!(
            s.checkpoint_if_due(t0).is_some(),
            "first record, time trigger on"
        );
        assert!(
            s.checkpoint_if_due(t0 + Duration::from_secs(60)).is_none(),
            "no growth"
        );
        s.seal(rec(1));
        s.seal(rec(2));
        assert!(s.checkpoint_if_due(t0 + Duration::from_secs(9)).is_none());
        s.seal(rec(3));
        assert!(
            s.checkpoint_if_due(t0 + Duration::from_secs(9)).is_some(),
            "3 records"
        );
        s.seal(rec(4));
        let t1 = t0 + Duration::from_secs(9);
        assert!(s.checkpoint_if_due(t1 + Duration::from_secs(9)).is_none());
        assert!(
            s.checkpoint_if_due(t1 + Duration::from_secs(10)).is_some(),
            "10 s"
        );
        assert_eq!(s.head().last_checkpoint.as_ref().unwrap().size, 5);
        // A clock going backwards never triggers the time rule.
        s.seal(rec(5));
        assert!(s.checkpoint_if_due(t0).is_none());

        let (mut s, _, _) = sealer(CheckpointPolicy {
            every_records: 0,
            every: Duration::ZERO,
        });
        s.seal(rec(0));
        assert!(
            s.checkpoint_if_due(t0 + Duration::from_secs(1 << 30))
                .is_none(),
            "both off"
        );
    }

    #[test]
    fn restart_from_a_persisted_head_continues_the_same_log() {
        let (mut a, key, pkcs8) = sealer(CheckpointPolicy::default());
        let mut uninterrupted = Vec::new();
        for i in 0..7 {
            uninterrupted.push(a.seal(rec(i)));
        }
        let signer = CheckpointSigner::from_pkcs8("coffer.audit/file", &pkcs8).unwrap();
        let mut first = Sealer::new(
            LogHead::empty(),
            signer,
            "coffer.audit/file".into(),
            CheckpointPolicy::default(),
        );
        let mut lines = Vec::new();
        for i in 0..4 {
            lines.push(first.seal(rec(i)));
        }
        let stored = serde_json::to_string(first.head()).unwrap();
        let head: LogHead = serde_json::from_str(&stored).unwrap();
        head.validate().unwrap();
        let signer = CheckpointSigner::from_pkcs8("coffer.audit/file", &pkcs8).unwrap();
        let mut second = Sealer::new(
            head,
            signer,
            "coffer.audit/file".into(),
            CheckpointPolicy::default(),
        );
        for i in 4..7 {
            lines.push(second.seal(rec(i)));
        }
        assert_eq!(lines, uninterrupted);
        assert_eq!(second.head(), a.head());
        assert_eq!(second.public_key(), key);
    }

    #[test]
    fn bad_origin_falls_back_to_the_key_name() {
        let (signer, _) = CheckpointSigner::generate("k").unwrap();
        let mut s = Sealer::new(
            LogHead::empty(),
            signer,
            "two\nlines".into(),
            CheckpointPolicy::default(),
        );
        assert_eq!(s.origin(), "k");
        let line = s.checkpoint_now(SystemTime::UNIX_EPOCH);
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert!(v["checkpoint"].as_str().unwrap().starts_with("k\n0\n"));
    }
}
