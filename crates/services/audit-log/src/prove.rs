//! Inclusion proofs for single records, checkable offline against the
//! checkpoint key.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::error::{AuditLogError, Result};
use crate::lines::{Kind, LineReader, classify};
use crate::merkle::{Hash, leaf_hash};
use crate::note::PublicKey;
use crate::proof::verify_inclusion;
use crate::tree::MerkleTree;

/// Proof that one record is in the tree a signed checkpoint commits to.
/// Hashes serialise as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The record's sequence number (its leaf index).
    pub seq: u64,
    /// The record line exactly as stored (without newline).
    pub record: String,
    /// `SHA-256(0x00 || record)`.
    #[serde(with = "crate::serde_hash")]
    pub leaf_hash: Hash,
    /// Size of the tree the covering checkpoint signs.
    pub tree_size: u64,
    /// Its root hash.
    #[serde(with = "crate::serde_hash")]
    pub root: Hash,
    /// The RFC 9162 inclusion path, leaf to root.
    #[serde(with = "crate::serde_hash::list")]
    pub path: Vec<Hash>,
    /// The covering checkpoint's signed note.
    pub checkpoint: String,
}

impl InclusionProof {
    /// Checks the proof completely: the checkpoint's signature under `key`,
    /// that it signs this tree size and root, that the record hashes to the
    /// leaf and carries the sequence number, and the inclusion path.
    pub fn verify(&self, key: &PublicKey) -> Result<()> {
        let cp = Checkpoint::open(&self.checkpoint, key)?;
        if cp.size != self.tree_size || cp.root != self.root {
            return Err(AuditLogError::ProofFailed(
                "the checkpoint does not sign this tree size and root",
            ));
        }
        if leaf_hash(self.record.as_bytes()) != self.leaf_hash {
            return Err(AuditLogError::ProofFailed(
                "the record does not hash to the leaf",
            ));
        }
        match classify(self.record.as_bytes()) {
            Kind::Record { seq, .. } if seq == self.seq => {}
            _ => {
                return Err(AuditLogError::ProofFailed(
                    "the record does not carry this sequence number",
                ));
            }
        }
        if !verify_inclusion(
            self.seq,
            self.tree_size,
            &self.leaf_hash,
            &self.path,
            &self.root,
        ) {
            return Err(AuditLogError::ProofFailed(
                "the inclusion path does not lead to the checkpoint's root",
            ));
        }
        Ok(())
    }
}

/// Builds the inclusion proof of record `seq` from an audit file, against
/// the newest checkpoint in the file that covers it and matches the file's
/// records. Signatures are not checked here: [`InclusionProof::verify`]
/// does that with the public key.
pub fn prove(reader: impl BufRead, seq: u64) -> Result<InclusionProof> {
    let mut lines = LineReader::new(reader);
    let mut tree = MerkleTree::new();
    let mut ahead: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut record = None;
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    while let Some(line) = lines.next_line() {
        let line = line?;
        match classify(line.bytes) {
            Kind::Record { seq: s, leaf, .. } => {
                if s == seq && record.is_none() {
                    record = Some(String::from_utf8_lossy(line.bytes).into_owned());
                }
                if s >= tree.size() {
                    ahead.entry(s).or_insert(leaf);
                }
                while let Some(l) = ahead.remove(&tree.size()) {
                    tree.push(l);
                }
            }
            Kind::Checkpoint { note, .. } => {
                if let Ok(cp) = Checkpoint::parse_unverified(&note)
                    && cp.size > seq
                {
                    checkpoints.push(cp);
                }
            }
            Kind::Malformed(_) => {}
        }
    }
    let record = record.ok_or(AuditLogError::RecordNotFound(seq))?;
    let best = checkpoints
        .into_iter()
        .filter(|cp| tree.root_at(cp.size).is_ok_and(|r| r == cp.root))
        .max_by_key(|cp| cp.size)
        .ok_or(AuditLogError::NotCovered(seq))?;
    let leaf = tree.leaf(seq).ok_or(AuditLogError::NotCovered(seq))?;
    Ok(InclusionProof {
        seq,
        leaf_hash: leaf,
        record,
        tree_size: best.size,
        root: best.root,
        path: tree.inclusion_proof(seq, best.size)?,
        checkpoint: best.note,
    })
}
