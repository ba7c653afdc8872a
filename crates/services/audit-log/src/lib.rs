//! Tamper-evident audit log for Coffer.
//!
//! Every audit record is sealed into one JSON line carrying its sequence
//! number (`seq`) and the hash of the previous record (`prev`), and becomes
//! a leaf of an RFC 9162 Merkle tree (`leaf = SHA-256(0x00 || line)`).
//! Periodically a checkpoint line is written: tree size and root hash in a
//! C2SP tlog-checkpoint, signed with Ed25519 as a C2SP signed note. The
//! [`Sealer`] does this while writing; [`verify`] checks a file offline and
//! reports precisely what was modified, deleted, reordered, truncated or
//! forged; [`prove`] produces inclusion proofs, and [`search`] answers "who
//! accessed what, and when".
//!
//! The crate is pure: no clock reads, no network, no async. Cryptography
//! comes from `coffer-crypto`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod checkpoint;
mod error;
mod head;
mod lines;
mod merkle;
mod note;
mod proof;
mod prove;
mod report;
mod sealer;
mod search;
mod serde_hash;
mod tree;
mod verify;

pub use checkpoint::{Checkpoint, CheckpointSigner, default_origin};
pub use error::{AuditLogError, Result};
pub use head::LogHead;
pub use merkle::{Hash, empty_root, frontier_append, frontier_root, leaf_hash, node_hash, root_of};
pub use note::{NoteSigner, PublicKey};
pub use proof::{verify_consistency, verify_inclusion};
pub use prove::{InclusionProof, prove};
pub use report::{Problem, VerifyOptions, VerifyReport};
pub use sealer::{CheckpointPolicy, Sealer};
pub use search::{Record, Search, SearchFilter, search};
pub use tree::MerkleTree;
pub use verify::{held_checkpoint_note, verify};
