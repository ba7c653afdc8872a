//! AES-256-GCM with a fresh random 96-bit nonce per message.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::random::fill_pooled;
use crate::{CryptoError, Secret};

/// Length of the GCM nonce prepended to every sealed message.
pub const NONCE_LEN: usize = 12;
/// Length of the GCM authentication tag appended to every sealed message.
pub const TAG_LEN: usize = 16;

fn aead_key(key: &[u8; 32]) -> Result<LessSafeKey, CryptoError> {
    // A 32-byte key is always valid for AES-256-GCM; map the error anyway.
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::Encrypt)
}

/// An AES-256-GCM key with its key schedule built once, for keys used on
/// every request (the barrier's terms). aws-lc-rs cleanses the schedule
/// when it is dropped. `Debug` shows nothing of the key.
pub(crate) struct AeadKey(LessSafeKey);

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadKey([redacted])")
    }
}

impl AeadKey {
    /// Builds the key schedule of `key`.
    pub(crate) fn new(key: &[u8; 32]) -> Result<Self, CryptoError> {
        aead_key(key).map(Self)
    }

    /// Encrypts `plaintext`, binding `aad`. Appends
    /// `nonce(12) || ciphertext || tag(16)` to `out`.
    pub(crate) fn seal_into(
        &self,
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        // Random 96-bit nonces, unique per message like any CSPRNG output.
        fill_pooled(&mut nonce)?;
        let start = out.len();
        out.reserve(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let body = out
            .get_mut(start + NONCE_LEN..)
            .ok_or(CryptoError::Encrypt)?;
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), body)
            .map_err(|_| CryptoError::Encrypt)?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Decrypts `nonce(12) || ciphertext || tag(16)`, checking `aad`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Secret<Vec<u8>>, CryptoError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Truncated);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Truncated)?;
        let mut buf = Secret::new(body.to_vec());
        let len = self
            .0
            .open_in_place(nonce, Aad::from(aad), buf.expose_mut())
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        buf.expose_mut().truncate(len);
        Ok(buf)
    }
}

/// Encrypts `plaintext` under `key`, binding `aad`. Appends
/// `nonce(12) || ciphertext || tag(16)` to `out`.
pub(crate) fn seal_into(
    key: &[u8; 32],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    AeadKey::new(key)?.seal_into(aad, plaintext, out)
}

/// Decrypts `nonce(12) || ciphertext || tag(16)` under `key`, checking `aad`.
pub(crate) fn open_slice(
    key: &[u8; 32],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Secret<Vec<u8>>, CryptoError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Truncated);
    }
    AeadKey::new(key)?.open(aad, sealed)
}

/// Single-key seal (wraps the root key and the keyring).
/// Output layout: `nonce(12) || ciphertext || tag(16)`.
pub fn seal_with_key(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::new();
    seal_into(key, aad, plaintext, &mut out)?;
    Ok(out)
}

/// Opens a message made by [`seal_with_key`]. Fails on a wrong key, wrong
/// `aad`, truncation or any modification.
pub fn open_with_key(
    key: &[u8; 32],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Secret<Vec<u8>>, CryptoError> {
    open_slice(key, aad, sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];

    #[test]
    fn round_trip_and_layout() {
        let sealed = seal_with_key(&KEY, b"aad", b"hello").unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 5 + TAG_LEN);
        assert_eq!(
            open_with_key(&KEY, b"aad", &sealed).unwrap().expose(),
            b"hello"
        );
        let empty = seal_with_key(&KEY, b"", b"").unwrap();
        assert!(
            open_with_key(&KEY, b"", &empty)
                .unwrap()
                .expose()
                .is_empty()
        );
    }

    #[test]
    fn nonces_are_fresh() {
        let a = seal_with_key(&KEY, b"", b"same").unwrap();
        let b = seal_with_key(&KEY, b"", b"same").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_key_aad_tamper_and_truncation_fail() {
        let sealed = seal_with_key(&KEY, b"aad", b"hello").unwrap();
        assert_eq!(
            open_with_key(&[8u8; 32], b"aad", &sealed).unwrap_err(),
            CryptoError::Decrypt
        );
        assert_eq!(
            open_with_key(&KEY, b"other", &sealed).unwrap_err(),
            CryptoError::Decrypt
        );
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert!(
                open_with_key(&KEY, b"aad", &t).is_err(),
                "flip at {i} accepted"
            );
        }
        for n in 0..sealed.len() {
            assert!(
                open_with_key(&KEY, b"aad", &sealed[..n]).is_err(),
                "truncation to {n} accepted"
            );
        }
    }
}
