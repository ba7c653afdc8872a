//! A `rand_core` 0.6 RNG for `vsss-rs`, seeded from the OS CSPRNG.
//!
//! `rand_core::RngCore::fill_bytes` cannot fail, but the OS generator can, so
//! the adapter draws one 256-bit seed fallibly up front and then expands it
//! with HMAC-SHA-256 in counter mode (block `i` = HMAC(seed, i)), a standard
//! PRF-based construction. The seed and buffered output are zeroized on drop.

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

use crate::{CryptoError, Secret, hmac_sha256, random_key};

/// Deterministic expansion of a random seed; see the module docs.
pub(crate) struct SeededRng {
    seed: Secret<[u8; 32]>,
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRng {
    /// A generator seeded with 32 fresh bytes from the OS CSPRNG.
    pub(crate) fn from_os() -> Result<Self, CryptoError> {
        Ok(Self {
            seed: random_key()?,
            counter: 0,
            block: [0u8; 32],
            used: 32,
        })
    }

    fn refill(&mut self) {
        self.block = hmac_sha256(self.seed.expose(), &self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        self.used = 0;
    }
}

impl Drop for SeededRng {
    fn drop(&mut self) {
        self.block.zeroize();
    }
}

impl RngCore for SeededRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest.iter_mut() {
            if self.used >= self.block.len() {
                self.refill();
            }
            // `used < 32` here: refill() resets it to 0 when the block is spent.
            *d = self.block[self.used];
            self.block[self.used] = 0;
            self.used += 1;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for SeededRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_do_not_repeat_blocks() {
        let mut a = SeededRng::from_os().unwrap();
        let mut b = SeededRng::from_os().unwrap();
        let mut x = [0u8; 100];
        let mut y = [0u8; 100];
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        assert_ne!(x, y);
        assert_ne!(x[..32], x[32..64]);
        assert_ne!(a.next_u64(), a.next_u64());
    }
}
