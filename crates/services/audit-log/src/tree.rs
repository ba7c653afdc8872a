//! An in-memory append-only Merkle tree that keeps every complete subtree,
//! so roots, inclusion paths (RFC 9162 2.1.3.1) and consistency proofs
//! (2.1.4.1) for any earlier size cost O(log n) hashes.

use crate::error::{AuditLogError, Result};
use crate::merkle::{Hash, empty_root, node_hash, split_point};

/// Append-only Merkle tree. Level 0 holds the leaf hashes; level `j` holds
/// the roots of the aligned perfect subtrees of `2^j` leaves completed so far.
/// Memory is about two hashes (64 bytes) per leaf.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash (see [`crate::leaf_hash`]).
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            let n = row.len();
            if n % 2 == 1 {
                return;
            }
            hash = node_hash(&row[n - 2], &row[n - 1]);
            level += 1;
        }
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.first()?.get(i).copied()
    }

    /// RFC 9162 `MTH(D[start:end])` over this tree's leaves.
    /// Callers guarantee `start < end <= size`.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            let stored = usize::try_from(start >> level)
                .ok()
                .and_then(|i| self.levels.get(level)?.get(i));
            if let Some(h) = stored {
                return *h;
            }
        }
        if n == 1 {
            // A single leaf is always stored at level 0 (n = 1 is aligned);
            // this fallback is unreachable for in-range arguments.
            return empty_root();
        }
        let k = split_point(n);
        node_hash(
            &self.subtree(start, start + k),
            &self.subtree(start + k, end),
        )
    }

    /// The root of the tree's first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        Ok(if size == 0 {
            empty_root()
        } else {
            self.subtree(0, size)
        })
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        let n = self.size();
        if n == 0 {
            empty_root()
        } else {
            self.subtree(0, n)
        }
    }

    /// The inclusion path (audit path) of leaf `index` in the tree of the
    /// first `size` leaves, ordered from the leaf up (RFC 9162 `PATH`).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        if index >= size {
            return Err(AuditLogError::InvalidProofRequest(format!(
                "leaf index {index} is not below tree size {size}"
            )));
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.subtree(start, start + k));
        }
    }

    /// The consistency proof between the trees of the first `first` and
    /// `second` leaves (RFC 9162 `PROOF(m, D[n])`); empty when
    /// `first == 0` or `first == second`.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>> {
        self.check_size(second)?;
        if first > second {
            return Err(AuditLogError::InvalidProofRequest(format!(
                "first tree size {first} is larger than second tree size {second}"
            )));
        }
        let mut out = Vec::new();
        if first > 0 && first < second {
            self.subproof(first, 0, second, true, &mut out);
        }
        Ok(out)
    }

    fn subproof(&self, m: u64, start: u64, end: u64, complete: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !complete {
                out.push(self.subtree(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, complete, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.subtree(start, start + k));
        }
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size() {
            return Err(AuditLogError::InvalidProofRequest(format!(
                "tree size {size} exceeds the {} leaves available",
                self.size()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::root_of;
    use crate::merkle::tests::{CT_ROOTS, ct_leaf_hashes};
    use proptest::prelude::*;

    fn tree_of(leaves: &[Hash]) -> MerkleTree {
        let mut t = MerkleTree::new();
        for l in leaves {
            t.push(*l);
        }
        t
    }

    fn hexes(v: &[Hash]) -> Vec<String> {
        v.iter().map(hex::encode).collect()
    }

    #[test]
    fn roots_match_the_reference_vectors() {
        let t = tree_of(&ct_leaf_hashes());
        for (n, want) in CT_ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(t.root_at(n as u64).unwrap()), *want);
        }
        assert_eq!(hex::encode(t.root()), CT_ROOTS[8]);
        assert!(t.root_at(9).is_err());
    }

    #[test]
    fn inclusion_paths_match_the_reference_vectors() {
        // transparency-dev/merkle proof/verify_test.go (leaf indices 0-based).
        let t = tree_of(&ct_leaf_hashes());
        assert!(t.inclusion_proof(0, 1).unwrap().is_empty());
        assert_eq!(
            hexes(&t.inclusion_proof(0, 8).unwrap()),
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        );
        assert_eq!(
            hexes(&t.inclusion_proof(5, 8).unwrap()),
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        );
        assert_eq!(
            hexes(&t.inclusion_proof(2, 3).unwrap()),
            ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]
        );
        assert_eq!(
            hexes(&t.inclusion_proof(1, 5).unwrap()),
            [
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        );
        assert!(t.inclusion_proof(3, 3).is_err());
        assert!(t.inclusion_proof(0, 9).is_err());
    }

    #[test]
    fn consistency_proofs_match_the_reference_vectors() {
        let t = tree_of(&ct_leaf_hashes());
        let cases: [(u64, u64, &[&str]); 5] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                6,
                7,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (m, n, want) in cases {
            assert_eq!(hexes(&t.consistency_proof(m, n).unwrap()), want, "{m}->{n}");
        }
        assert!(t.consistency_proof(0, 8).unwrap().is_empty());
        assert!(t.consistency_proof(5, 4).is_err());
        assert!(t.consistency_proof(1, 9).is_err());
    }

    proptest! {
        #[test]
        fn root_at_every_size_equals_recursive_definition(n in 0usize..200) {
            let leaves: Vec<Hash> = (0..n).map(|i| crate::leaf_hash(&i.to_be_bytes())).collect();
            let t = tree_of(&leaves);
            for size in 0..=n {
                prop_assert_eq!(t.root_at(size as u64).unwrap(), root_of(&leaves[..size]));
            }
        }
    }
}
