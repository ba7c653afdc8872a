//! The persistent state of one device's log.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::error::{AuditLogError, Result};
use crate::merkle::{Hash, frontier_is_valid, frontier_root};

/// Persistent state of one device's log: enough to continue the chain and
/// the tree after a restart without reading the file. The core keeps it in
/// the barrier after every write. Hashes serialise as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHead {
    /// Number of records sealed so far (the next record's `seq`).
    pub size: u64,
    /// Leaf hash of the last sealed record (zeros before the first).
    #[serde(with = "crate::serde_hash")]
    pub prev_leaf: Hash,
    /// Compact Merkle frontier of the `size` leaves (see
    /// [`crate::frontier_append`]).
    #[serde(with = "crate::serde_hash::list")]
    pub frontier: Vec<Hash>,
    /// The newest checkpoint written.
    pub last_checkpoint: Option<Checkpoint>,
    /// When the newest checkpoint was written.
    pub last_checkpoint_time: Option<SystemTime>,
}

impl LogHead {
    /// The head of a log with no records.
    pub fn empty() -> Self {
        Self {
            size: 0,
            prev_leaf: [0; 32],
            frontier: Vec::new(),
            last_checkpoint: None,
            last_checkpoint_time: None,
        }
    }

    /// The RFC 9162 root of the `size` records sealed so far.
    pub fn root(&self) -> Hash {
        frontier_root(&self.frontier)
    }

    /// Checks the head's internal consistency (call after loading it from
    /// storage): the frontier has one entry per set bit of `size`, and the
    /// last checkpoint does not claim more records than the head has.
    pub fn validate(&self) -> Result<()> {
        if !frontier_is_valid(&self.frontier, self.size) {
            return Err(AuditLogError::InvalidHead(
                "frontier does not match the size",
            ));
        }
        if self.size == 0 && self.prev_leaf != [0; 32] {
            return Err(AuditLogError::InvalidHead("empty log with a previous leaf"));
        }
        if let Some(cp) = &self.last_checkpoint {
            if cp.size > self.size {
                return Err(AuditLogError::InvalidHead(
                    "last checkpoint is beyond the head",
                ));
            }
            if cp.size == self.size && cp.root != self.root() {
                return Err(AuditLogError::InvalidHead(
                    "last checkpoint root does not match the head",
                ));
            }
        }
        Ok(())
    }
}

impl Default for LogHead {
    fn default() -> Self {
        Self::empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_head_is_valid_and_round_trips() {
        let h = LogHead::empty();
        h.validate().unwrap();
        assert_eq!(h.root(), crate::merkle::empty_root());
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.contains(&"0".repeat(64)), "{json}");
        assert_eq!(serde_json::from_str::<LogHead>(&json).unwrap(), h);
    }

    #[test]
    fn inconsistent_heads_are_rejected() {
        let mut h = LogHead::empty();
        h.size = 3;
        assert!(h.validate().is_err());
        h.frontier = vec![[1; 32], [2; 32]];
        h.validate().unwrap();
        let bad: std::result::Result<LogHead, _> = serde_json::from_str(
            r#"{"size":0,"prev_leaf":"zz","frontier":[],"last_checkpoint":null,"last_checkpoint_time":null}"#,
        );
        assert!(bad.is_err());
    }
}
