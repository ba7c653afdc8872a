//! Ed25519 signatures (RFC 8032) for signed checkpoints and notes.
//!
//! Private keys travel as PKCS#8 documents held in [`Secret`]s; public keys
//! are the raw 32-byte Ed25519 encoding and signatures the raw 64 bytes.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::{CryptoError, Secret};

/// Length of an Ed25519 public key in bytes.
pub const ED25519_PUBLIC_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature in bytes.
pub const ED25519_SIGNATURE_LEN: usize = 64;

/// A parsed Ed25519 signing key. `Debug` never shows the private key.
pub struct Ed25519Key {
    pair: Ed25519KeyPair,
}

impl Ed25519Key {
    /// Generates a fresh key from the OS CSPRNG and returns it together with
    /// its PKCS#8 (v2) encoding, for the caller to store.
    pub fn generate() -> Result<(Self, Secret<Vec<u8>>), CryptoError> {
        let pkcs8 = ed25519_generate()?;
        let key = Self::from_pkcs8(pkcs8.expose())?;
        Ok((key, pkcs8))
    }

    /// Parses a PKCS#8 (v1 or v2) Ed25519 private key. When the document
    /// carries a public key, it must match the private key.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|_| {
            CryptoError::InvalidParameters("invalid Ed25519 PKCS#8 private key".into())
        })?;
        Ok(Self { pair })
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; ED25519_PUBLIC_KEY_LEN] {
        let mut out = [0u8; ED25519_PUBLIC_KEY_LEN];
        // An Ed25519 public key is always exactly 32 bytes; zip never panics.
        for (o, b) in out.iter_mut().zip(self.pair.public_key().as_ref()) {
            *o = *b;
        }
        out
    }

    /// Signs `msg` (deterministic, RFC 8032).
    pub fn sign(&self, msg: &[u8]) -> [u8; ED25519_SIGNATURE_LEN] {
        let sig = self.pair.sign(msg);
        let mut out = [0u8; ED25519_SIGNATURE_LEN];
        // An Ed25519 signature is always exactly 64 bytes; zip never panics.
        for (o, b) in out.iter_mut().zip(sig.as_ref()) {
            *o = *b;
        }
        out
    }
}

impl std::fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Key")
            .field("public_key", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

/// Generates a fresh Ed25519 private key as a PKCS#8 (v2) document.
pub fn ed25519_generate() -> Result<Secret<Vec<u8>>, CryptoError> {
    let doc =
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| CryptoError::Random)?;
    Ok(Secret::new(doc.as_ref().to_vec()))
}

/// Signs `msg` with the PKCS#8-encoded private key.
pub fn ed25519_sign(pkcs8: &[u8], msg: &[u8]) -> Result<[u8; ED25519_SIGNATURE_LEN], CryptoError> {
    Ok(Ed25519Key::from_pkcs8(pkcs8)?.sign(msg))
}

/// The raw public key of a PKCS#8-encoded private key.
pub fn ed25519_public_key(pkcs8: &[u8]) -> Result<[u8; ED25519_PUBLIC_KEY_LEN], CryptoError> {
    Ok(Ed25519Key::from_pkcs8(pkcs8)?.public_key())
}

/// Whether `sig` is a valid Ed25519 signature of `msg` under the raw
/// `public_key`. Malformed keys or signatures simply fail to verify.
pub fn ed25519_verify(public_key: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    if public_key.len() != ED25519_PUBLIC_KEY_LEN || sig.len() != ED25519_SIGNATURE_LEN {
        return false;
    }
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(msg, sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_1_and_3() {
        // RFC 8032 section 7.1, TEST 1 (empty message) and TEST 3.
        let cases = [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            ),
            (
                "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
                "af82",
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
            ),
        ];
        for (seed, public, msg, sig) in cases {
            let seed = hex::decode(seed).unwrap();
            let public = hex::decode(public).unwrap();
            let msg = hex::decode(msg).unwrap();
            let pair = Ed25519KeyPair::from_seed_and_public_key(&seed, &public).unwrap();
            let pkcs8 = pair.to_pkcs8().unwrap();
            let key = Ed25519Key::from_pkcs8(pkcs8.as_ref()).unwrap();
            assert_eq!(key.public_key().to_vec(), public);
            assert_eq!(hex::encode(key.sign(&msg)), sig);
            assert!(ed25519_verify(&public, &msg, &hex::decode(sig).unwrap()));
        }
    }

    #[test]
    fn generate_sign_verify_round_trip() {
        let pkcs8 = ed25519_generate().unwrap();
        let public = ed25519_public_key(pkcs8.expose()).unwrap();
        let sig = ed25519_sign(pkcs8.expose(), b"hello").unwrap();
        assert!(ed25519_verify(&public, b"hello", &sig));
        assert!(!ed25519_verify(&public, b"hellp", &sig));
        let mut bad = sig;
        bad[10] ^= 1;
        assert!(!ed25519_verify(&public, b"hello", &bad));
        assert!(!ed25519_verify(&public[..31], b"hello", &sig));
        assert!(!ed25519_verify(&public, b"hello", &sig[..63]));
        let (other, _) = Ed25519Key::generate().unwrap();
        assert!(!ed25519_verify(&other.public_key(), b"hello", &sig));
    }

    #[test]
    fn rejects_garbage_keys_and_redacts_debug() {
        assert!(Ed25519Key::from_pkcs8(b"not a key").is_err());
        assert!(ed25519_sign(b"", b"m").is_err());
        let (key, pkcs8) = Ed25519Key::generate().unwrap();
        let printed = format!("{key:?} {pkcs8:?}");
        assert!(printed.contains(&hex::encode(key.public_key())));
        assert!(!printed.contains(&hex::encode(pkcs8.expose())));
    }
}
