//! RFC 9162 (section 2.1) Merkle tree hashing and the compact frontier.
//!
//! Leaves are `SHA-256(0x00 || data)`, interior nodes
//! `SHA-256(0x01 || left || right)`, the empty tree hashes to `SHA-256("")`,
//! and a tree of `n` leaves splits at the largest power of two below `n`.

use coffer_crypto::sha256;

/// A SHA-256 hash: a leaf, interior node or tree root.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`: the hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut buf = Vec::with_capacity(data.len() + 1);
    buf.push(0x00);
    buf.extend_from_slice(data);
    sha256(&buf)
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    sha256(&buf)
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    sha256(&[])
}

/// The largest power of two strictly smaller than `n` (`n >= 2`): RFC 9162's
/// split point `k`. Returns 0 for `n < 2`.
pub fn split_point(n: u64) -> u64 {
    if n < 2 {
        return 0;
    }
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The RFC 9162 Merkle Tree Hash of `leaves` (already leaf-hashed), computed
/// by the recursive definition. O(n); used for small trees and as the
/// reference the incremental structures are tested against.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            // split_point(n) < n, so both halves are non-empty.
            let k = usize::try_from(split_point(n as u64)).unwrap_or(n / 2);
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// Appends `leaf` to a compact frontier describing a tree of `size` leaves.
///
/// The frontier holds the roots of the perfect subtrees the tree decomposes
/// into, largest (leftmost) first: one per set bit of `size`. Appending
/// merges equal-sized subtrees, so the frontier stays O(log n).
pub fn frontier_append(frontier: &mut Vec<Hash>, size: u64, leaf: Hash) {
    frontier.push(leaf);
    let mut s = size;
    // With a well-formed frontier (one entry per set bit) there are always
    // two entries to merge; a malformed one stops merging instead of panicking.
    while s & 1 == 1 && frontier.len() >= 2 {
        let n = frontier.len();
        let merged = node_hash(&frontier[n - 2], &frontier[n - 1]);
        frontier.truncate(n - 2);
        frontier.push(merged);
        s >>= 1;
    }
}

/// The root of the tree a compact frontier describes: the subtree roots
/// folded right to left, exactly as RFC 9162's split rule nests them.
pub fn frontier_root(frontier: &[Hash]) -> Hash {
    let mut iter = frontier.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |acc, left| node_hash(left, &acc))
}

/// Whether `frontier` has the shape a frontier of `size` leaves must have.
pub fn frontier_is_valid(frontier: &[Hash], size: u64) -> bool {
    frontier.len() == size.count_ones() as usize
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The Certificate Transparency / transparency-dev reference leaves.
    pub(crate) fn ct_leaves() -> Vec<Vec<u8>> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|h| hex::decode(h).unwrap())
        .collect()
    }

    /// The published roots for tree sizes 0..=8.
    pub(crate) const CT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    pub(crate) fn ct_leaf_hashes() -> Vec<Hash> {
        ct_leaves().iter().map(|d| leaf_hash(d)).collect()
    }

    #[test]
    fn reference_roots_for_every_size() {
        let leaves = ct_leaf_hashes();
        let mut frontier = Vec::new();
        assert_eq!(hex::encode(frontier_root(&frontier)), CT_ROOTS[0]);
        for n in 1..=8 {
            assert_eq!(hex::encode(root_of(&leaves[..n])), CT_ROOTS[n], "size {n}");
            frontier_append(&mut frontier, (n - 1) as u64, leaves[n - 1]);
            assert!(frontier_is_valid(&frontier, n as u64));
            assert_eq!(
                hex::encode(frontier_root(&frontier)),
                CT_ROOTS[n],
                "size {n}"
            );
        }
    }

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        for (n, k) in [
            (0, 0),
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1000, 512),
        ] {
            assert_eq!(split_point(n), k, "n = {n}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn malformed_frontier_does_not_panic() {
        let mut f = Vec::new();
        frontier_append(&mut f, 7, [1; 32]);
        assert_eq!(f.len(), 1);
        assert!(!frontier_is_valid(&f, 6));
    }

    proptest! {
        #[test]
        fn frontier_root_equals_full_recomputation(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let leaves: Vec<Hash> = data.iter().map(|b| leaf_hash(&[*b])).collect();
            let mut frontier = Vec::new();
            for (i, leaf) in leaves.iter().enumerate() {
                frontier_append(&mut frontier, i as u64, *leaf);
                prop_assert!(frontier_is_valid(&frontier, i as u64 + 1));
                prop_assert_eq!(frontier_root(&frontier), root_of(&leaves[..=i]));
            }
        }
    }
}
