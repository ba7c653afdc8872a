//! Verification of inclusion and consistency proofs, exactly as RFC 9162
//! sections 2.1.3.2 and 2.1.4.2 specify.

use crate::merkle::{Hash, node_hash};

/// Verifies that `leaf` is the leaf at `index` of the tree of `size` leaves
/// whose root is `root`, given its inclusion path (RFC 9162 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// Verifies that the tree of `first` leaves with root `first_root` is a
/// prefix of the tree of `second` leaves with root `second_root`
/// (RFC 9162 2.1.4.2). The trivial cases follow the RFC's proof definition:
/// an empty tree is consistent with any tree (empty proof), and equal sizes
/// need an empty proof and equal roots.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if first == 0 {
        return proof.is_empty();
    }
    // 1. An empty path fails.
    let Some((head, rest)) = proof.split_first() else {
        return false;
    };
    // 2. If first is a power of two, first_root is prepended to the path.
    let (start, rest): (Hash, &[Hash]) = if first.is_power_of_two() {
        (*first_root, proof)
    } else {
        (*head, rest)
    };
    // 3-4.
    let mut fnode = first - 1;
    let mut snode = second - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // 5.
    let mut fr = start;
    let mut sr = start;
    // 6.
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // 7.
    fr == *first_root && sr == *second_root && snode == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::tests::ct_leaf_hashes;
    use crate::merkle::{empty_root, root_of};
    use crate::tree::MerkleTree;
    use proptest::prelude::*;

    fn tree_of(leaves: &[Hash]) -> MerkleTree {
        let mut t = MerkleTree::new();
        for l in leaves {
            t.push(*l);
        }
        t
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| crate::leaf_hash(&(i as u64).to_le_bytes()))
            .collect()
    }

    /// The corruptions transparency-dev/merkle applies to every good proof.
    fn inclusion_probes(
        i: u64,
        n: u64,
        leaf: Hash,
        path: &[Hash],
        root: Hash,
    ) -> Vec<(u64, u64, Hash, Vec<Hash>, Hash)> {
        let some = [0xab; 32];
        let mut out = vec![
            (i.wrapping_sub(1), n, leaf, path.to_vec(), root),
            (i + 1, n, leaf, path.to_vec(), root),
            (i ^ 2, n, leaf, path.to_vec(), root),
            (i, n * 2, leaf, path.to_vec(), root),
            (i, n / 2, leaf, path.to_vec(), root),
            (i, n, some, path.to_vec(), root),
            (i, n, leaf, path.to_vec(), empty_root()),
            (i, n, leaf, path.to_vec(), some),
            (i, n, leaf, [path, &[root]].concat(), root),
            (i, n, leaf, [&[root][..], path].concat(), root),
        ];
        if !path.is_empty() {
            out.push((i, n, leaf, path[..path.len() - 1].to_vec(), root));
        }
        out
    }

    #[test]
    fn reference_inclusion_proofs_verify_and_corruptions_fail() {
        let l = ct_leaf_hashes();
        let t = tree_of(&l);
        for n in 1..=8u64 {
            let root = t.root_at(n).unwrap();
            for i in 0..n {
                let path = t.inclusion_proof(i, n).unwrap();
                assert!(
                    verify_inclusion(i, n, &l[i as usize], &path, &root),
                    "{i}/{n}"
                );
                for (pi, pn, pl, pp, pr) in inclusion_probes(i, n, l[i as usize], &path, root) {
                    if (pi, pn, pl, &pp, pr) == (i, n, l[i as usize], &path, root) {
                        continue;
                    }
                    assert!(
                        !verify_inclusion(pi, pn, &pl, &pp, &pr),
                        "probe {pi}/{pn} of {i}/{n}"
                    );
                }
            }
        }
    }

    #[test]
    fn trivial_inclusion_cases() {
        let h = crate::leaf_hash(b"data");
        assert!(verify_inclusion(0, 1, &h, &[], &h));
        assert!(!verify_inclusion(0, 1, &h, &[], &empty_root()));
        assert!(!verify_inclusion(0, 0, &h, &[], &h));
        assert!(!verify_inclusion(1, 1, &h, &[], &h));
        assert!(!verify_inclusion(0, 1, &h, &[h], &h));
    }

    #[test]
    fn reference_consistency_edge_cases() {
        // transparency-dev/merkle TestVerifyConsistency.
        let (r1, r2, e) = ([1u8; 32], [2u8; 32], empty_root());
        assert!(!verify_consistency(0, 0, &r1, &r2, &[]));
        assert!(!verify_consistency(1, 1, &r1, &r2, &[]));
        assert!(verify_consistency(0, 0, &r1, &r1, &[]));
        assert!(verify_consistency(0, 1, &r1, &r2, &[]));
        assert!(verify_consistency(1, 1, &r2, &r2, &[]));
        assert!(!verify_consistency(1, 0, &r1, &r2, &[]));
        assert!(!verify_consistency(2, 1, &r1, &r2, &[]));
        assert!(!verify_consistency(1, 2, &r1, &r2, &[]));
        assert!(!verify_consistency(0, 0, &e, &e, &[e]));
        assert!(!verify_consistency(0, 1, &e, &e, &[e]));
        assert!(!verify_consistency(1, 1, &e, &e, &[e]));
    }

    #[test]
    fn reference_consistency_proofs_verify_and_corruptions_fail() {
        let l = ct_leaf_hashes();
        let t = tree_of(&l);
        for n in 1..=8u64 {
            for m in 1..n {
                let (r1, r2) = (t.root_at(m).unwrap(), t.root_at(n).unwrap());
                let p = t.consistency_proof(m, n).unwrap();
                assert!(verify_consistency(m, n, &r1, &r2, &p), "{m}->{n}");
                let some = [0xab; 32];
                let probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
                    (m - 1, n, r1, r2, p.clone()),
                    (m + 1, n, r1, r2, p.clone()),
                    (m ^ 2, n, r1, r2, p.clone()),
                    (m, n * 2, r1, r2, p.clone()),
                    (m, n / 2, r1, r2, p.clone()),
                    (m, n, some, r2, p.clone()),
                    (m, n, r1, some, p.clone()),
                    (m, n, r2, r1, p.clone()),
                    (m, n, r1, r2, vec![]),
                    (m, n, r1, r2, [&p[..], &[r1]].concat()),
                    (m, n, r1, r2, [&p[..], &[r2]].concat()),
                    (m, n, r1, r2, [&[r1][..], &p[..]].concat()),
                    (m, n, r1, r2, [&[r2][..], &p[..]].concat()),
                    (m, n, r1, r2, [&[p[0]][..], &p[..]].concat()),
                    (m, n, r1, r2, p[..p.len() - 1].to_vec()),
                ];
                for (pm, pn, pr1, pr2, pp) in probes {
                    if (pm, pn, pr1, pr2, &pp) == (m, n, r1, r2, &p) {
                        continue;
                    }
                    assert!(
                        !verify_consistency(pm, pn, &pr1, &pr2, &pp),
                        "probe {pm}->{pn} of {m}->{n}"
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn every_inclusion_proof_verifies_and_any_flipped_bit_fails(
            n in 1usize..120, seed in any::<u64>(), bit in 0usize..256
        ) {
            let l = leaves(n);
            let t = tree_of(&l);
            let root = root_of(&l);
            let i = (seed % n as u64) as usize;
            let path = t.inclusion_proof(i as u64, n as u64).unwrap();
            prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &path, &root));
            for k in 0..path.len() {
                let mut bad = path.clone();
                bad[k][bit / 8] ^= 1 << (bit % 8);
                prop_assert!(!verify_inclusion(i as u64, n as u64, &l[i], &bad, &root));
            }
        }

        #[test]
        fn every_consistency_proof_verifies_and_any_flipped_bit_fails(
            n in 1usize..120, seed in any::<u64>(), bit in 0usize..256
        ) {
            let l = leaves(n);
            let t = tree_of(&l);
            let m = (seed % n as u64) + 1;
            let (r1, r2) = (t.root_at(m).unwrap(), t.root_at(n as u64).unwrap());
            let p = t.consistency_proof(m, n as u64).unwrap();
            prop_assert!(verify_consistency(m, n as u64, &r1, &r2, &p));
            for k in 0..p.len() {
                let mut bad = p.clone();
                bad[k][bit / 8] ^= 1 << (bit % 8);
                prop_assert!(!verify_consistency(m, n as u64, &r1, &r2, &bad));
            }
        }
    }
}
