//! The offline verifier: streams an audit file once, recomputes the hash
//! chain and the RFC 9162 tree, checks every checkpoint's signature, root
//! and consistency, and reports precisely what is wrong.
//!
//! Memory is about 72 bytes per record (the tree's complete subtrees and
//! each record's line number); record lines themselves are never kept.
//!
//! How records are pinned down:
//! * record `k` is modified when record `k+1`'s `prev` differs from
//!   `leaf(k)`; the tree then continues with the leaf `k+1` vouches for, so
//!   later checkpoints still verify. The last record before the end of the
//!   file has no successor: it is pinned down by the covering checkpoint.
//! * a missing sequence number is a deletion; its leaf is recovered from
//!   the successor's `prev` when possible, so the rest still verifies.
//! * a record whose neighbours in the file are both out of sequence, and not
//!   in increasing order, is reordered.
//! * a line that does not parse where records are missing is the modified
//!   record that used to be there.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::BufRead;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::checkpoint::Checkpoint;
use crate::lines::{Kind, LineReader, classify};
use crate::merkle::Hash;
use crate::note::PublicKey;
use crate::proof::verify_consistency;
use crate::report::{Problem, VerifyOptions, VerifyReport};
use crate::tree::MerkleTree;

/// At most this many problems are listed; the rest are only counted.
const MAX_PROBLEMS: usize = 10_000;

/// Verifies an audit file read from `reader` against the checkpoint key.
/// Never panics and never stops at the first problem: a corrupted or
/// hand-edited file is reported, line by line, to its end.
pub fn verify(reader: impl BufRead, key: &PublicKey, opts: &VerifyOptions) -> VerifyReport {
    let mut v = Verifier::new(key, opts);
    let mut lines = LineReader::new(reader);
    let mut last_line = 0;
    while let Some(item) = lines.next_line() {
        match item {
            Ok(line) => {
                last_line = line.number;
                if line.too_long {
                    v.malformed.push((line.number, "line too long".into()));
                    continue;
                }
                match classify(line.bytes) {
                    Kind::Record { seq, prev, leaf } => v.on_record(seq, prev, leaf, line.number),
                    Kind::Checkpoint { note, size, root } => {
                        v.on_checkpoint(&note, size, root.as_deref(), line.number)
                    }
                    Kind::Malformed(why) => v.malformed.push((line.number, why.to_owned())),
                }
            }
            Err(e) => {
                v.problem(Problem::Unreadable {
                    line: last_line + 1,
                    error: e.to_string(),
                });
                break;
            }
        }
    }
    v.finish()
}

/// Extracts a checkpoint note from a held checkpoint: either the note text
/// itself or a checkpoint line of an audit file.
pub fn held_checkpoint_note(text: &str) -> String {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{')
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str(trimmed.trim_end())
        && let Some(serde_json::Value::String(note)) = map.get("checkpoint")
    {
        return note.clone();
    }
    text.to_owned()
}

/// A record seen but not yet added to the tree.
struct Entry {
    leaf: Hash,
    /// The leaf its successor vouches for, when that differs (modified).
    original: Option<Hash>,
    line: u64,
    successor_seen: bool,
}

struct Verifier<'k> {
    key: &'k PublicKey,
    opts: &'k VerifyOptions,
    problems: Vec<Problem>,
    omitted: u64,
    records: u64,
    checkpoints: u64,
    checkpoints_verified: u64,
    tree: MerkleTree,
    /// Line of each leaf in the tree (0 for recovered leaves).
    lines: Vec<u64>,
    ahead: BTreeMap<u64, Entry>,
    /// Leaf of a not-yet-seen record, as claimed by its successor's `prev`.
    claims: HashMap<u64, Hash>,
    /// Leaves added from a claim whose record has not (yet) appeared.
    recovered: HashMap<u64, Hash>,
    /// Leaves added before their successor was seen.
    unconfirmed: HashSet<u64>,
    /// Sequence numbers reported as modified.
    flagged: BTreeSet<u64>,
    /// Sequence numbers attributed to unparseable lines.
    unparsed: BTreeSet<u64>,
    deferred: BTreeMap<u64, Vec<(Hash, u64)>>,
    last_verified: Option<(u64, Hash)>,
    covered: u64,
    origin: Option<String>,
    held: Option<Checkpoint>,
    win_pred: Option<(u64, u64)>,
    win_mid: Option<(u64, u64)>,
    last_file_seq: Option<u64>,
    max_seq: Option<u64>,
    malformed: Vec<(u64, String)>,
}

impl<'k> Verifier<'k> {
    fn new(key: &'k PublicKey, opts: &'k VerifyOptions) -> Self {
        let mut v = Self {
            key,
            opts,
            problems: Vec::new(),
            omitted: 0,
            records: 0,
            checkpoints: 0,
            checkpoints_verified: 0,
            tree: MerkleTree::new(),
            lines: Vec::new(),
            ahead: BTreeMap::new(),
            claims: HashMap::new(),
            recovered: HashMap::new(),
            unconfirmed: HashSet::new(),
            flagged: BTreeSet::new(),
            unparsed: BTreeSet::new(),
            deferred: BTreeMap::new(),
            last_verified: None,
            covered: 0,
            origin: opts.origin.clone(),
            held: None,
            win_pred: None,
            win_mid: None,
            last_file_seq: None,
            max_seq: None,
            malformed: Vec::new(),
        };
        if let Some(text) = &opts.from_checkpoint {
            match Checkpoint::open(&held_checkpoint_note(text), key) {
                Ok(cp) => match &v.origin {
                    Some(o) if *o != cp.origin => v.problem(Problem::ForgedCheckpoint {
                        line: None,
                        reason: format!("origin {:?} is not {o:?}", cp.origin),
                    }),
                    _ => v.held = Some(cp),
                },
                Err(e) => v.problem(Problem::ForgedCheckpoint {
                    line: None,
                    reason: e.to_string(),
                }),
            }
        }
        v
    }

    fn problem(&mut self, p: Problem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else {
            self.omitted += 1;
        }
    }

    fn flag_modified(&mut self, seq: u64, line: u64) {
        if self.flagged.insert(seq) {
            self.problem(Problem::ModifiedRecord { seq, line });
        }
    }

    fn line_of(&self, seq: u64) -> u64 {
        usize::try_from(seq)
            .ok()
            .and_then(|i| self.lines.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Malformed lines met since the previous record: when exactly as many
    /// records are missing, they are those records, modified beyond parsing.
    fn flush_malformed(&mut self, first_missing: u64, missing: u64) {
        let pending = std::mem::take(&mut self.malformed);
        if !pending.is_empty() && missing == pending.len() as u64 {
            for (i, (line, _)) in pending.into_iter().enumerate() {
                let seq = first_missing + i as u64;
                self.unparsed.insert(seq);
                self.flag_modified(seq, line);
            }
        } else {
            for (line, reason) in pending {
                self.problem(Problem::Malformed { line, reason });
            }
        }
    }

    /// Reorder detection over a window of three records in file order.
    fn push_window(&mut self, seq: u64, line: u64) {
        if let Some(mid) = self.win_mid {
            self.judge(self.win_pred, mid, Some(seq));
        }
        self.win_pred = self.win_mid;
        self.win_mid = Some((seq, line));
    }

    fn judge(&mut self, pred: Option<(u64, u64)>, (seq, line): (u64, u64), succ: Option<u64>) {
        let pred = pred.map(|p| p.0);
        let pred_off = pred.is_some_and(|p| p.checked_add(1) != Some(seq));
        let succ_off = succ.is_some_and(|s| seq.checked_add(1) != Some(s));
        let increasing = pred.is_none_or(|p| p < seq) && succ.is_none_or(|s| seq < s);
        if pred_off && succ_off && !increasing {
            self.problem(Problem::Reordered { seq, line });
        }
    }

    fn on_record(&mut self, seq: u64, prev: Option<Hash>, leaf: Hash, line: u64) {
        self.records += 1;
        let expected = self.last_file_seq.map_or(0, |p| p.saturating_add(1));
        self.flush_malformed(expected, seq.saturating_sub(expected));
        self.last_file_seq = Some(seq);

        if seq < self.tree.size() || self.ahead.contains_key(&seq) {
            match self.recovered.remove(&seq) {
                Some(claimed) if seq < self.tree.size() => {
                    self.late_record(seq, prev, leaf, claimed, line)
                }
                _ => self.problem(Problem::DuplicateRecord { seq, line }),
            }
            return;
        }
        self.max_seq = Some(self.max_seq.map_or(seq, |m| m.max(seq)));
        self.push_window(seq, line);

        let mut entry = Entry {
            leaf,
            original: None,
            line,
            successor_seen: false,
        };
        match prev {
            None => self.flag_modified(seq, line),
            Some(p) if seq == 0 => {
                if p != [0; 32] {
                    self.flag_modified(0, line);
                }
            }
            Some(p) => self.check_predecessor(seq - 1, p),
        }
        if let Some(claim) = self.claims.remove(&seq) {
            entry.successor_seen = true;
            if claim != leaf {
                entry.original = Some(claim);
                self.flag_modified(seq, line);
            }
        }
        self.ahead.insert(seq, entry);
        self.advance(false);
    }

    /// Checks record `k+1`'s `prev` against `leaf(k)`.
    fn check_predecessor(&mut self, k: u64, prev: Hash) {
        if k < self.tree.size() {
            self.unconfirmed.remove(&k);
            if self.tree.leaf(k) != Some(prev) {
                let line = self.line_of(k);
                self.flag_modified(k, line);
            }
        } else if let Some(e) = self.ahead.get_mut(&k) {
            e.successor_seen = true;
            if e.leaf != prev {
                e.original = Some(prev);
                let line = e.line;
                self.flag_modified(k, line);
            }
        } else {
            self.claims.insert(k, prev);
        }
    }

    /// A record arriving after its position was filled from its successor's
    /// claim (it was moved, or deleted and re-inserted elsewhere).
    fn late_record(&mut self, seq: u64, prev: Option<Hash>, leaf: Hash, claimed: Hash, line: u64) {
        self.push_window(seq, line);
        if leaf != claimed {
            self.flag_modified(seq, line);
        }
        if let Some(i) = usize::try_from(seq)
            .ok()
            .and_then(|i| self.lines.get_mut(i))
        {
            *i = line;
        }
        match prev {
            None => self.flag_modified(seq, line),
            Some(p) if seq == 0 => {
                if p != [0; 32] {
                    self.flag_modified(0, line);
                }
            }
            Some(p) => self.check_predecessor(seq - 1, p),
        }
    }

    /// Moves records into the tree in sequence order: a record is added once
    /// its successor has vouched for it, or the file has moved past it.
    fn advance(&mut self, at_end: bool) {
        loop {
            let n = self.tree.size();
            let next_seen_past = self.max_seq.is_some_and(|m| m > n.saturating_add(1));
            if let Some(e) = self.ahead.get(&n) {
                if !(at_end || e.successor_seen || next_seen_past) {
                    break;
                }
                let Some(e) = self.ahead.remove(&n) else {
                    break;
                };
                if !e.successor_seen {
                    self.unconfirmed.insert(n);
                }
                self.tree.push(e.original.unwrap_or(e.leaf));
                self.lines.push(e.line);
            } else if let Some(claim) = self.claims.remove(&n) {
                self.tree.push(claim);
                self.lines.push(0);
                self.recovered.insert(n, claim);
            } else {
                break;
            }
            if let Some(pending) = self.deferred.remove(&self.tree.size()) {
                let size = self.tree.size();
                for (root, line) in pending {
                    self.check_checkpoint(size, root, Some(line));
                }
            }
        }
    }

    fn on_checkpoint(&mut self, note: &str, size: Option<u64>, root: Option<&str>, line: u64) {
        self.checkpoints += 1;
        let cp = match Checkpoint::open(note, self.key) {
            Ok(cp) => cp,
            Err(e) => {
                let reason = e.to_string();
                self.problem(Problem::ForgedCheckpoint {
                    line: Some(line),
                    reason,
                });
                return;
            }
        };
        match &self.origin {
            Some(o) if *o != cp.origin => {
                let reason = format!("origin {:?} is not {o:?}", cp.origin);
                self.problem(Problem::ForgedCheckpoint {
                    line: Some(line),
                    reason,
                });
                return;
            }
            Some(_) => {}
            None => self.origin = Some(cp.origin.clone()),
        }
        let root_field = root.and_then(|r| B64.decode(r).ok());
        if size != Some(cp.size) || root_field.as_deref() != Some(&cp.root[..]) {
            self.problem(Problem::Malformed {
                line,
                reason: "checkpoint size/root fields disagree with its signed note".into(),
            });
        }
        self.covered = self.covered.max(cp.size);
        if cp.size <= self.tree.size() {
            self.check_checkpoint(cp.size, cp.root, Some(line));
        } else {
            self.deferred
                .entry(cp.size)
                .or_default()
                .push((cp.root, line));
        }
    }

    /// Checks a signed root against the recomputed tree (`size` is at most
    /// the tree size) and its consistency with the previous verified one.
    fn check_checkpoint(&mut self, size: u64, root: Hash, line: Option<u64>) {
        let Ok(actual) = self.tree.root_at(size) else {
            return;
        };
        if actual != root {
            let since = self.last_verified.map_or(0, |(m, _)| m.min(size));
            let last = size.saturating_sub(1);
            let clean_range = self.flagged.range(since..size).next().is_none()
                && !self.recovered.keys().any(|k| (since..size).contains(k));
            if size > 0 && self.unconfirmed.contains(&last) && clean_range {
                // Nothing vouches for the last record but the checkpoint.
                let line = self.line_of(last);
                self.flag_modified(last, line);
            } else {
                self.problem(Problem::RootMismatch { size, line });
            }
            return;
        }
        if line.is_some() {
            self.checkpoints_verified += 1;
        }
        if let Some((m, m_root)) = self.last_verified {
            let ((a, ra), (b, rb)) = if m <= size {
                ((m, m_root), (size, root))
            } else {
                ((size, root), (m, m_root))
            };
            let consistent = self
                .tree
                .consistency_proof(a, b)
                .is_ok_and(|proof| verify_consistency(a, b, &ra, &rb, &proof));
            if !consistent {
                self.problem(Problem::InconsistentCheckpoints { from: a, to: b });
            }
        }
        if self.last_verified.is_none_or(|(m, _)| m <= size) {
            self.last_verified = Some((size, root));
        }
    }

    fn finish(mut self) -> VerifyReport {
        if let Some(mid) = self.win_mid {
            self.judge(self.win_pred, mid, None);
        }
        let next_seq = self.max_seq.map_or(0, |m| m.saturating_add(1));
        let expected_total = [
            self.covered,
            self.held.as_ref().map_or(0, |c| c.size),
            self.opts.expected_head.map_or(0, |h| h.0),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let after_last = self.last_file_seq.map_or(0, |s| s.saturating_add(1));
        self.flush_malformed(after_last, expected_total.saturating_sub(after_last));
        self.advance(true);
        self.report_deletions(next_seq);

        if let Some(held) = self.held.take() {
            self.check_held(&held, next_seq);
        }
        if let Some((size, root)) = self.opts.expected_head {
            if size > next_seq {
                self.problem(Problem::Truncated {
                    expected_size: size,
                    found: next_seq,
                });
            } else if self.tree.root_at(size).is_ok_and(|r| r != root) {
                self.problem(Problem::RootMismatch { size, line: None });
            }
        }
        let uncovered = next_seq.saturating_sub(self.covered);
        if self.opts.strict && uncovered > 0 {
            self.problem(Problem::Uncovered {
                first_seq: self.covered,
                count: uncovered,
            });
        }
        VerifyReport {
            records: self.records,
            checkpoints: self.checkpoints,
            checkpoints_verified: self.checkpoints_verified,
            tree_size: self.tree.size(),
            root: self.tree.root(),
            covered: self.covered,
            uncovered_records: uncovered,
            problems: self.problems,
            problems_omitted: self.omitted,
        }
    }

    /// A checkpoint the caller holds: the file must reach its size, and be
    /// consistent with it (RFC 9162 proof to the newest verified checkpoint).
    fn check_held(&mut self, held: &Checkpoint, next_seq: u64) {
        self.covered = self.covered.max(held.size);
        if held.size > next_seq {
            self.problem(Problem::Truncated {
                expected_size: held.size,
                found: next_seq,
            });
            return;
        }
        if held.size > self.tree.size() {
            return; // records inside it are missing; reported as deletions
        }
        match self.last_verified {
            Some((n, n_root)) if n >= held.size => {
                let ok = self
                    .tree
                    .consistency_proof(held.size, n)
                    .is_ok_and(|p| verify_consistency(held.size, n, &held.root, &n_root, &p));
                if !ok {
                    self.problem(Problem::InconsistentCheckpoints {
                        from: held.size,
                        to: n,
                    });
                }
            }
            _ => self.check_checkpoint(held.size, held.root, None),
        }
    }

    /// Reports every sequence number below the highest known one (or the
    /// newest checkpoint's size) that never appeared.
    fn report_deletions(&mut self, next_seq: u64) {
        let mut missing: Vec<(u64, u64)> = Vec::new(); // half-open ranges
        let mut singles: Vec<u64> = self.recovered.keys().copied().collect();
        singles.sort_unstable();
        missing.extend(singles.into_iter().map(|s| (s, s + 1)));
        let mut cursor = self.tree.size();
        for &k in self.ahead.keys() {
            if k > cursor {
                missing.push((cursor, k));
            }
            cursor = k.saturating_add(1);
        }
        let end = next_seq.max(self.covered);
        if end > cursor {
            missing.push((cursor, end));
        }
        missing.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (a, b) in missing {
            // Records attributed to unparseable lines are modified, not deleted.
            let mut start = a;
            for &u in self.unparsed.range(a..b) {
                if u > start {
                    push_range(&mut merged, start, u);
                }
                start = u + 1;
            }
            if b > start {
                push_range(&mut merged, start, b);
            }
        }
        for (a, b) in merged {
            self.problem(Problem::DeletedRecords {
                after_seq: a.checked_sub(1),
                missing: b - a,
            });
        }
    }
}

fn push_range(ranges: &mut Vec<(u64, u64)>, a: u64, b: u64) {
    match ranges.last_mut() {
        Some(last) if last.1 >= a => last.1 = last.1.max(b),
        _ => ranges.push((a, b)),
    }
}
