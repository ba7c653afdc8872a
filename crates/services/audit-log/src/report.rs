//! Verification options, findings and the report.

use std::fmt;

use serde::Serialize;

use crate::merkle::Hash;

/// Options for [`crate::verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// A checkpoint note the verifier already trusts (held from an earlier
    /// verification or fetched from the server). The file must contain at
    /// least its records and be consistent with it.
    pub from_checkpoint: Option<String>,
    /// The head the server stored (tree size and root): the file must hold
    /// at least that many records and match that root.
    pub expected_head: Option<(u64, Hash)>,
    /// Records not covered by any checkpoint are a failure, not a warning.
    pub strict: bool,
    /// The checkpoint origin to require (for example
    /// `coffer.audit/file`); by default every checkpoint must carry the
    /// origin of the first valid one.
    pub origin: Option<String>,
}

/// One thing wrong with an audit file. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// The record with this sequence number was changed after it was
    /// written (its successor's `prev` or the covering checkpoint disagree).
    ModifiedRecord {
        /// Sequence number of the modified record.
        seq: u64,
        /// Line where it is.
        line: u64,
    },
    /// Records are missing.
    DeletedRecords {
        /// The last sequence number before the gap (`None`: the gap starts
        /// at record 0).
        after_seq: Option<u64>,
        /// How many consecutive records are missing.
        missing: u64,
    },
    /// A record appears out of sequence order.
    Reordered {
        /// Its sequence number.
        seq: u64,
        /// The line it appears on.
        line: u64,
    },
    /// A sequence number appears twice.
    DuplicateRecord {
        /// The repeated sequence number.
        seq: u64,
        /// The line of the repetition.
        line: u64,
    },
    /// The file holds fewer records than a checkpoint or head you hold.
    Truncated {
        /// Records the held checkpoint or stored head covers.
        expected_size: u64,
        /// Records found in the file.
        found: u64,
    },
    /// A checkpoint whose signature does not verify with the key.
    ForgedCheckpoint {
        /// Its line (`None`: the checkpoint supplied by the caller).
        line: Option<u64>,
        /// Why it was rejected.
        reason: String,
    },
    /// A validly signed checkpoint (or the stored head) whose root differs
    /// from the root recomputed from the file.
    RootMismatch {
        /// The tree size it covers.
        size: u64,
        /// Its line (`None`: supplied by the caller).
        line: Option<u64>,
    },
    /// Two checkpoints fail the RFC 9162 consistency proof between them.
    InconsistentCheckpoints {
        /// The smaller tree size.
        from: u64,
        /// The larger tree size.
        to: u64,
    },
    /// A line that is neither a sealed record nor a checkpoint.
    Malformed {
        /// The line.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Records after the newest checkpoint (only a problem in strict mode).
    Uncovered {
        /// The first uncovered sequence number.
        first_seq: u64,
        /// How many records are uncovered.
        count: u64,
    },
    /// The file could not be read to the end.
    Unreadable {
        /// The line at which reading failed.
        line: u64,
        /// The I/O error.
        error: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |line: &Option<u64>| match line {
            Some(l) => format!("line {l}"),
            None => "the supplied checkpoint".to_owned(),
        };
        match self {
            Problem::ModifiedRecord { seq, line } => {
                write!(f, "record {seq} (line {line}) was modified")
            }
            Problem::DeletedRecords {
                after_seq: Some(s),
                missing,
            } => write!(f, "{missing} record(s) deleted after record {s}"),
            Problem::DeletedRecords {
                after_seq: None,
                missing,
            } => write!(f, "{missing} record(s) deleted at the start of the log"),
            Problem::Reordered { seq, line } => {
                write!(f, "record {seq} is out of order (line {line})")
            }
            Problem::DuplicateRecord { seq, line } => {
                write!(f, "record {seq} appears again on line {line}")
            }
            Problem::Truncated {
                expected_size,
                found,
            } => write!(
                f,
                "log truncated: {expected_size} records expected, {found} found"
            ),
            Problem::ForgedCheckpoint { line, reason } => {
                write!(f, "forged checkpoint at {}: {reason}", at(line))
            }
            Problem::RootMismatch { size, line } => write!(
                f,
                "root hash of the first {size} records does not match {}",
                match line {
                    Some(l) => format!("the checkpoint on line {l}"),
                    None => "the expected root".to_owned(),
                }
            ),
            Problem::InconsistentCheckpoints { from, to } => {
                write!(f, "checkpoints of sizes {from} and {to} are not consistent")
            }
            Problem::Malformed { line, reason } => write!(f, "line {line} is malformed: {reason}"),
            Problem::Uncovered { first_seq, count } => write!(
                f,
                "{count} record(s) from record {first_seq} on are not covered by a checkpoint yet"
            ),
            Problem::Unreadable { line, error } => {
                write!(f, "reading stopped at line {line}: {error}")
            }
        }
    }
}

/// The outcome of verifying an audit file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Record lines read.
    pub records: u64,
    /// Checkpoint lines read.
    pub checkpoints: u64,
    /// Checkpoints whose signature and root both verified.
    pub checkpoints_verified: u64,
    /// Leaves in the recomputed tree.
    pub tree_size: u64,
    /// Root of the recomputed tree (hex).
    #[serde(with = "crate::serde_hash")]
    pub root: Hash,
    /// Size of the newest validly signed checkpoint (0 when none).
    pub covered: u64,
    /// Records after the newest checkpoint (a warning unless strict).
    pub uncovered_records: u64,
    /// Everything wrong, in the order found.
    pub problems: Vec<Problem>,
    /// Problems not listed because there were too many.
    pub problems_omitted: u64,
}

impl VerifyReport {
    /// Whether the file verified: no problems (an uncovered tail is a
    /// problem only in strict mode).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.problems_omitted == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_display_and_serialise() {
        let p = Problem::ModifiedRecord {
            seq: 500,
            line: 505,
        };
        assert_eq!(p.to_string(), "record 500 (line 505) was modified");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"problem": "modified_record", "seq": 500, "line": 505})
        );
        let d = Problem::DeletedRecords {
            after_seq: None,
            missing: 2,
        };
        assert!(d.to_string().contains("start of the log"));
        let r = Problem::RootMismatch {
            size: 9,
            line: None,
        };
        assert!(r.to_string().contains("expected root"));
    }
}
