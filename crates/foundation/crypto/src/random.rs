//! Random bytes, keys, tokens and ids from the OS CSPRNG
//! (`aws_lc_rs::rand::SystemRandom`).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use coffer_types::Sensitive;

use crate::{CryptoError, Secret};

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Largest multiple of 62 that fits in a byte: bytes at or above it are
/// rejected so every character is equally likely.
const ACCEPT_BELOW: u8 = 248;

/// Fills `buf` with bytes from the OS CSPRNG.
pub fn fill_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| CryptoError::Random)
}

/// A fresh random 256-bit key.
pub fn random_key() -> Result<Secret<[u8; 32]>, CryptoError> {
    let mut key = Secret::new([0u8; 32]);
    fill_random(key.expose_mut())?;
    Ok(key)
}

/// `prefix` followed by `len` characters from `[A-Za-z0-9]`, each uniformly
/// distributed (rejection sampling), e.g. `random_token("hvs.", 24)`.
pub fn random_token(prefix: &str, len: usize) -> Result<Sensitive, CryptoError> {
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    push_alphanumeric(&mut out, len)?;
    Ok(Sensitive::new(out))
}

/// `len` random characters from `[A-Za-z0-9]` (for accessors and ids).
pub fn random_alphanumeric(len: usize) -> Result<String, CryptoError> {
    let mut out = String::with_capacity(len);
    push_alphanumeric(&mut out, len)?;
    Ok(out)
}

fn push_alphanumeric(out: &mut String, len: usize) -> Result<(), CryptoError> {
    let mut remaining = len;
    let mut buf = [0u8; 64];
    while remaining > 0 {
        fill_random(&mut buf)?;
        for &b in buf.iter().filter(|&&b| b < ACCEPT_BELOW).take(remaining) {
            out.push(char::from(ALPHANUMERIC[usize::from(b % 62)]));
            remaining -= 1;
        }
    }
    zeroize::Zeroize::zeroize(&mut buf);
    Ok(())
}

/// A uniformly distributed index in `0..n` from the OS CSPRNG (rejection
/// sampling over 64-bit draws, so no value is favoured). Fails with
/// [`CryptoError::InvalidParameters`] when `n` is zero.
pub fn random_index(n: usize) -> Result<usize, CryptoError> {
    let n64 = u64::try_from(n)
        .map_err(|_| CryptoError::InvalidParameters("random index bound is too large".into()))?;
    if n64 == 0 {
        return Err(CryptoError::InvalidParameters(
            "random index bound must be positive".into(),
        ));
    }
    // 2^64 mod n: draws in the last `rejected` values of the u64 range would
    // favour the low indexes, so they are drawn again.
    let rejected = (u64::MAX % n64 + 1) % n64;
    let mut buf = [0u8; 8];
    loop {
        fill_random(&mut buf)?;
        let draw = u64::from_le_bytes(buf);
        if rejected == 0 || draw <= u64::MAX - rejected {
            zeroize::Zeroize::zeroize(&mut buf);
            // `draw % n64 < n64 == n`, so it always fits in a usize.
            return usize::try_from(draw % n64).map_err(|_| CryptoError::Random);
        }
    }
}

/// `len` characters drawn independently and uniformly from `charset` (for
/// password generation). Fails when `charset` is empty and `len` is not zero.
pub fn random_from_charset(charset: &[char], len: usize) -> Result<Vec<char>, CryptoError> {
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(charset[random_index(charset.len())?]);
    }
    Ok(out)
}

/// Shuffles `items` in place with a Fisher-Yates shuffle driven by
/// [`random_index`], so every permutation is equally likely.
pub fn random_shuffle<T>(items: &mut [T]) -> Result<(), CryptoError> {
    for i in (1..items.len()).rev() {
        let j = random_index(i + 1)?;
        items.swap(i, j);
    }
    Ok(())
}

/// A random (version 4) UUID, lowercase and hyphenated.
pub fn random_uuid() -> Result<String, CryptoError> {
    let mut b = [0u8; 16];
    fill_pooled(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    Ok(out)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes of CSPRNG output fetched at once for ids and nonces.
const ID_POOL_LEN: usize = 512;

/// Fills `out` with CSPRNG output drawn from a per-thread buffer, for values
/// that must be unique and unpredictable but are not secret (request ids,
/// AEAD nonces). Every request gets a UUID and every stored record a nonce;
/// asking the CSPRNG for 12 or 16 bytes each time costs more than the rest
/// of building them. Keys and tokens never come from here.
pub(crate) fn fill_pooled(out: &mut [u8]) -> Result<(), CryptoError> {
    ID_POOL.with(|pool| pool.borrow_mut().take(out))
}

thread_local! {
    /// See [`fill_pooled`].
    static ID_POOL: std::cell::RefCell<IdPool> = const {
        std::cell::RefCell::new(IdPool { bytes: [0; ID_POOL_LEN], next: ID_POOL_LEN })
    };
}

/// A buffer of CSPRNG output; every byte is handed out once.
struct IdPool {
    bytes: [u8; ID_POOL_LEN],
    next: usize,
}

impl IdPool {
    fn take(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        if out.len() > ID_POOL_LEN {
            return fill_random(out);
        }
        if self.next + out.len() > ID_POOL_LEN {
            fill_random(&mut self.bytes)?;
            self.next = 0;
        }
        let end = self.next + out.len();
        out.copy_from_slice(&self.bytes[self.next..end]);
        // Spent bytes are wiped so the buffer never holds an id twice.
        self.bytes[self.next..end].fill(0);
        self.next = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_prefix_length_and_charset() {
        let t = random_token("hvs.", 24).unwrap();
        let s = t.expose();
        assert!(s.starts_with("hvs."));
        assert_eq!(s.len(), 28);
        assert!(s[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(random_token("hvs.", 24).unwrap(), t);
        assert_eq!(random_token("x", 0).unwrap().expose(), "x");
    }

    #[test]
    fn alphanumeric_uses_the_whole_charset() {
        let s = random_alphanumeric(4000).unwrap();
        assert_eq!(s.len(), 4000);
        for c in ALPHANUMERIC {
            assert!(
                s.as_bytes().contains(c),
                "{} never produced",
                char::from(*c)
            );
        }
        assert_ne!(
            random_alphanumeric(24).unwrap(),
            random_alphanumeric(24).unwrap()
        );
    }

    #[test]
    fn random_index_is_in_range_and_covers_it() {
        assert!(random_index(0).is_err());
        assert_eq!(random_index(1).unwrap(), 0);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[random_index(7).unwrap()] += 1;
        }
        // Each bucket expects 1000; 700 is more than 9 standard deviations away.
        assert!(seen.iter().all(|&c| c > 700), "{seen:?}");
    }

    #[test]
    fn charset_draws_and_shuffles() {
        assert!(random_from_charset(&[], 0).unwrap().is_empty());
        assert!(random_from_charset(&[], 1).is_err());
        let set = ['a', 'é', '-', 'Z'];
        let drawn = random_from_charset(&set, 400).unwrap();
        assert_eq!(drawn.len(), 400);
        assert!(set.iter().all(|c| drawn.contains(c)));
        assert!(drawn.iter().all(|c| set.contains(c)));
        let mut items: Vec<u32> = (0..50).collect();
        random_shuffle(&mut items).unwrap();
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(
            items, sorted,
            "a 50-element shuffle left everything in place"
        );
    }

    #[test]
    fn uuids_are_v4_shaped() {
        let u = random_uuid().unwrap();
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(
            u.bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(u, random_uuid().unwrap());
    }

    #[test]
    fn pooled_uuids_never_repeat_across_refills() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| random_uuid().unwrap()).collect();
        assert_eq!(ids.len(), 10_000);
        let mut pool = IdPool {
            bytes: [7; ID_POOL_LEN],
            next: ID_POOL_LEN - 8,
        };
        let mut out = [0u8; 16];
        pool.take(&mut out).unwrap();
        assert_ne!(out, [7; 16], "a short tail forces a refill from the CSPRNG");
        assert!(
            pool.bytes[..16].iter().all(|b| *b == 0),
            "spent bytes are wiped"
        );
    }

    #[test]
    fn keys_are_random() {
        let a = random_key().unwrap();
        let b = random_key().unwrap();
        assert_ne!(a.expose(), b.expose());
        assert_ne!(a.expose(), &[0u8; 32]);
    }
}
