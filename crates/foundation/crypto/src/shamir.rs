//! Shamir secret sharing over GF(2^8), via `vsss-rs`'s `Gf256` (the AES
//! field, x^8 + x^4 + x^3 + x + 1, the same as Vault's shamir package).
//!
//! Share layout matches Vault: the y-bytes followed by the x coordinate as
//! the last byte. x coordinates are distinct values from 1..=255 chosen by a
//! random permutation, as Vault does. `vsss-rs` lays shares out x-first; this
//! module converts in both directions.

use vsss_rs::{Gf256, IdentifierGf256, ParticipantIdGeneratorType};
use zeroize::Zeroize;

use crate::rng::SeededRng;
use crate::{CryptoError, Secret, fill_random};

fn invalid(msg: &str) -> CryptoError {
    CryptoError::InvalidParameters(msg.to_owned())
}

fn bad_shares(msg: &str) -> CryptoError {
    CryptoError::InvalidShares(msg.to_owned())
}

/// `count` distinct x coordinates from 1..=255: the first `count` entries of
/// a uniformly random permutation (Fisher-Yates with rejection sampling).
fn random_x_coordinates(count: usize) -> Result<Vec<u8>, CryptoError> {
    let mut xs: Vec<u8> = (1..=255).collect();
    let mut byte = [0u8; 1];
    for i in 0..count.min(xs.len()) {
        let span = xs.len() - i; // 1..=255 because i < count <= xs.len()
        let limit = 256 - (256 % span); // accept bytes below a multiple of span
        let pick = loop {
            fill_random(&mut byte)?;
            if usize::from(byte[0]) < limit {
                break usize::from(byte[0]) % span;
            }
        };
        xs.swap(i, i + pick);
    }
    xs.truncate(count);
    Ok(xs)
}

/// Splits `secret` into `shares` shares, any `threshold` of which recover it.
///
/// Each share is `secret.len() + 1` bytes: the y-bytes, then the x
/// coordinate (1..=255) as the last byte. `threshold` must be in
/// `2..=shares`; as in Vault, `shares == 1 && threshold == 1` means no split
/// and returns a single share equal to the secret itself.
pub fn split_secret(
    secret: &[u8],
    threshold: u8,
    shares: u8,
) -> Result<Vec<Secret<Vec<u8>>>, CryptoError> {
    if secret.is_empty() {
        return Err(invalid("cannot split an empty secret"));
    }
    if shares == 1 && threshold == 1 {
        return Ok(vec![Secret::new(secret.to_vec())]);
    }
    if shares < threshold {
        return Err(invalid("parts cannot be less than threshold"));
    }
    if threshold < 2 {
        return Err(invalid("threshold must be at least 2"));
    }
    let xs = random_x_coordinates(usize::from(shares))?;
    let ids: Vec<IdentifierGf256> = xs.iter().map(|&x| IdentifierGf256(Gf256(x))).collect();
    let rng = SeededRng::from_os()?;
    let generators = [ParticipantIdGeneratorType::list(&ids)];
    let raw = Gf256::split_array_with_participant_generators(
        usize::from(threshold),
        usize::from(shares),
        secret,
        rng,
        &generators,
    )
    .map_err(|e| invalid(&e.to_string()))?;
    // vsss-rs layout is x || y-bytes; Vault's is y-bytes || x.
    let mut raw = Secret::new(raw);
    let mut out = Vec::with_capacity(raw.expose().len());
    for share in raw.expose_mut().iter_mut() {
        let mut s = Secret::new(Vec::with_capacity(share.len()));
        if let Some((x, ys)) = share.split_first() {
            s.expose_mut().extend_from_slice(ys);
            s.expose_mut().push(*x);
        }
        share.zeroize();
        out.push(s);
    }
    if out.len() != usize::from(shares) || out.iter().any(|s| s.expose().len() != secret.len() + 1)
    {
        return Err(invalid("secret sharing produced malformed shares"));
    }
    Ok(out)
}

/// Recombines shares (any order, any `threshold` of them).
///
/// Errors on fewer than 2 shares, shares shorter than 2 bytes, mismatched
/// lengths, an x coordinate of 0 and duplicate x coordinates. With the wrong
/// shares the result is a wrong secret; callers detect that when the
/// recombined key fails to open what it protects.
pub fn combine_shares(shares: &[&[u8]]) -> Result<Secret<Vec<u8>>, CryptoError> {
    if shares.len() < 2 {
        return Err(bad_shares(
            "less than two parts cannot be used to reconstruct the secret",
        ));
    }
    // shares.len() >= 2 was checked just above, so index 0 exists.
    let len = shares[0].len();
    if len < 2 {
        return Err(bad_shares("parts must be at least two bytes"));
    }
    if shares.iter().any(|s| s.len() != len) {
        return Err(bad_shares("all parts must be the same length"));
    }
    let mut seen = [false; 256];
    for share in shares {
        let x = share.last().copied().unwrap_or(0);
        if x == 0 {
            return Err(bad_shares("invalid part: x coordinate 0"));
        }
        if seen[usize::from(x)] {
            return Err(bad_shares("duplicate part detected"));
        }
        seen[usize::from(x)] = true;
    }
    // Reorder into vsss-rs's x-first layout inside a zeroizing container.
    let mut inner: Secret<Vec<Vec<u8>>> = Secret::new(Vec::with_capacity(shares.len()));
    for share in shares {
        let mut v = Vec::with_capacity(len);
        if let Some((x, ys)) = share.split_last() {
            v.push(*x);
            v.extend_from_slice(ys);
        }
        inner.expose_mut().push(v);
    }
    Gf256::combine_array(inner.expose())
        .map(Secret::new)
        .map_err(|e| bad_shares(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposed(shares: &[Secret<Vec<u8>>]) -> Vec<Vec<u8>> {
        shares.iter().map(|s| s.expose().clone()).collect()
    }

    #[test]
    fn every_three_of_five_subset_recovers() {
        let secret: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(37)).collect();
        let shares = exposed(&split_secret(&secret, 3, 5).unwrap());
        let mut subsets = 0;
        for a in 0..5 {
            for b in 0..5 {
                for c in 0..5 {
                    if a == b || b == c || a == c {
                        continue;
                    }
                    let picked = [&shares[a][..], &shares[b][..], &shares[c][..]];
                    assert_eq!(combine_shares(&picked).unwrap().expose(), &secret);
                    subsets += 1;
                }
            }
        }
        assert_eq!(subsets, 60); // all ordered triples
        let all: Vec<&[u8]> = shares.iter().map(Vec::as_slice).collect();
        assert_eq!(combine_shares(&all).unwrap().expose(), &secret);
    }

    #[test]
    fn two_of_five_do_not_give_the_secret() {
        let secret = [0xA5u8; 32];
        let shares = exposed(&split_secret(&secret, 3, 5).unwrap());
        for a in 0..5 {
            for b in (a + 1)..5 {
                let got = combine_shares(&[&shares[a], &shares[b]]).unwrap();
                assert_ne!(got.expose(), &secret);
            }
        }
    }

    #[test]
    fn share_layout_matches_vault() {
        let secret = [1u8, 2, 3, 4, 5];
        let shares = exposed(&split_secret(&secret, 2, 255).unwrap());
        assert_eq!(shares.len(), 255);
        let mut xs: Vec<u8> = shares.iter().map(|s| *s.last().unwrap()).collect();
        assert!(shares.iter().all(|s| s.len() == secret.len() + 1));
        xs.sort_unstable();
        xs.dedup();
        assert_eq!(xs.len(), 255);
        assert!(!xs.contains(&0));
        let two = [&shares[7][..], &shares[200][..]];
        assert_eq!(combine_shares(&two).unwrap().expose(), &secret);
    }

    #[test]
    fn combines_hand_made_shares_in_the_aes_field() {
        // f(x) = 0x42 + 0x02·x over GF(2^8) mod x^8+x^4+x^3+x+1 (Vault's field):
        // f(1) = 0x40, f(0x80) = 0x42 ^ (0x02·0x80 = 0x1b) = 0x59.
        let got = combine_shares(&[&[0x40, 0x01], &[0x59, 0x80]]).unwrap();
        assert_eq!(got.expose(), &[0x42]);
    }

    #[test]
    fn one_of_one_is_the_secret() {
        let shares = split_secret(b"root", 1, 1).unwrap();
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0].expose(), b"root");
    }

    #[test]
    fn bad_split_parameters() {
        assert!(split_secret(b"", 2, 3).is_err());
        assert!(split_secret(b"s", 3, 2).is_err());
        assert!(split_secret(b"s", 1, 3).is_err());
        assert!(split_secret(b"s", 0, 0).is_err());
        assert!(split_secret(b"s", 2, 1).is_err());
        let e = split_secret(b"s", 4, 3).unwrap_err();
        assert_eq!(e.kind().status(), 400);
        assert_eq!(e.to_string(), "parts cannot be less than threshold");
    }

    #[test]
    fn bad_combine_inputs() {
        let shares = exposed(&split_secret(&[9u8; 16], 2, 3).unwrap());
        assert!(combine_shares(&[]).is_err());
        assert!(combine_shares(&[&shares[0]]).is_err());
        let e = combine_shares(&[&shares[0], &shares[0]]).unwrap_err();
        assert_eq!(e.to_string(), "duplicate part detected");
        assert!(combine_shares(&[&shares[0], &shares[1][..10]]).is_err());
        assert!(combine_shares(&[&[1u8][..], &[2u8][..]]).is_err());
        let mut zero_x = shares[1].clone();
        *zero_x.last_mut().unwrap() = 0;
        assert!(combine_shares(&[&shares[0], &zero_x]).is_err());
    }

    #[test]
    fn x_coordinates_are_distinct_and_vary() {
        let a = random_x_coordinates(5).unwrap();
        assert_eq!(a.len(), 5);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        let differs = (0..20).any(|_| random_x_coordinates(5).unwrap() != a);
        assert!(differs);
    }
}
