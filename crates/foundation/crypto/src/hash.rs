//! Hashing, MACs, key derivation and constant-time comparison.

use aws_lc_rs::{digest, hkdf, hmac};
use subtle::ConstantTimeEq;

use crate::CryptoError;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    to_array(digest::digest(&digest::SHA256, data).as_ref())
}

/// SHA-384 of `data`.
pub fn sha384(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA384, data).as_ref().to_vec()
}

/// SHA-512 of `data`.
pub fn sha512(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA512, data).as_ref().to_vec()
}

/// A digest algorithm of Vault's `sys/tools/hash`, named as Vault names
/// it (`sha2-256`, `sha3-512`). aws-lc-rs has no SHA3-224, so Vault's
/// `sha3-224` is not one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// SHA-224 (FIPS 180-4).
    Sha2_224,
    /// SHA-256 (FIPS 180-4).
    Sha2_256,
    /// SHA-384 (FIPS 180-4).
    Sha2_384,
    /// SHA-512 (FIPS 180-4).
    Sha2_512,
    /// SHA3-256 (FIPS 202).
    Sha3_256,
    /// SHA3-384 (FIPS 202).
    Sha3_384,
    /// SHA3-512 (FIPS 202).
    Sha3_512,
}

impl DigestAlgorithm {
    /// Every supported algorithm, in Vault's documented order.
    pub const ALL: [DigestAlgorithm; 7] = [
        DigestAlgorithm::Sha2_224,
        DigestAlgorithm::Sha2_256,
        DigestAlgorithm::Sha2_384,
        DigestAlgorithm::Sha2_512,
        DigestAlgorithm::Sha3_256,
        DigestAlgorithm::Sha3_384,
        DigestAlgorithm::Sha3_512,
    ];

    /// The algorithm Vault calls `name`, if supported.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Vault's name of the algorithm.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha2_224 => "sha2-224",
            DigestAlgorithm::Sha2_256 => "sha2-256",
            DigestAlgorithm::Sha2_384 => "sha2-384",
            DigestAlgorithm::Sha2_512 => "sha2-512",
            DigestAlgorithm::Sha3_256 => "sha3-256",
            DigestAlgorithm::Sha3_384 => "sha3-384",
            DigestAlgorithm::Sha3_512 => "sha3-512",
        }
    }

    fn algorithm(self) -> &'static digest::Algorithm {
        match self {
            DigestAlgorithm::Sha2_224 => &digest::SHA224,
            DigestAlgorithm::Sha2_256 => &digest::SHA256,
            DigestAlgorithm::Sha2_384 => &digest::SHA384,
            DigestAlgorithm::Sha2_512 => &digest::SHA512,
            DigestAlgorithm::Sha3_256 => &digest::SHA3_256,
            DigestAlgorithm::Sha3_384 => &digest::SHA3_384,
            DigestAlgorithm::Sha3_512 => &digest::SHA3_512,
        }
    }
}

/// The digest of `data` under `algorithm`.
pub fn digest(algorithm: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    digest::digest(algorithm.algorithm(), data)
        .as_ref()
        .to_vec()
}

/// HMAC-SHA-256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    to_array(hmac::sign(&key, data).as_ref())
}

/// An HMAC-SHA-256 key whose inner and outer hash states are computed once,
/// for keys that sign on every request (the token store's salt). `Debug`
/// shows nothing of the key.
#[derive(Clone)]
pub struct HmacSha256Key(hmac::Key);

impl std::fmt::Debug for HmacSha256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacSha256Key([redacted])")
    }
}

impl HmacSha256Key {
    /// Prepares `key`.
    pub fn new(key: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, key))
    }

    /// HMAC-SHA-256 of `data`; equal to [`hmac_sha256`] with the same key.
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        to_array(hmac::sign(&self.0, data).as_ref())
    }
}

/// Copies a SHA-256-sized output. Both callers pass SHA-256 outputs, which are
/// always exactly 32 bytes; a shorter slice would only zero-fill, never panic.
fn to_array(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// Constant-time equality. Slices of different lengths are unequal (the
/// length itself is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

struct OutputLen(usize);

impl hkdf::KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA-256 (RFC 5869): fills `out` (at most 255 * 32 bytes) from the
/// input keying material, salt and context info.
pub fn hkdf_sha256(
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    if out.is_empty() || out.len() > 255 * 32 {
        return Err(CryptoError::InvalidParameters(format!(
            "HKDF output length must be between 1 and {} bytes",
            255 * 32
        )));
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk
        .expand(&info, OutputLen(out.len()))
        .map_err(|_| CryptoError::InvalidParameters("HKDF expand failed".into()))?;
    okm.fill(out)
        .map_err(|_| CryptoError::InvalidParameters("HKDF expand failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_hmac_keys_sign_like_the_one_shot_function() {
        let key = HmacSha256Key::new(b"salt");
        assert_eq!(
            key.sign(b"token\0hvs.x"),
            hmac_sha256(b"salt", b"token\0hvs.x")
        );
        assert_ne!(key.sign(b"a"), key.sign(b"b"));
        assert_eq!(format!("{key:?}"), "HmacSha256Key([redacted])");
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha384_and_sha512_known_answers() {
        assert!(hex::encode(sha384(b"abc")).starts_with("cb00753f45a35e8bb5a03d699ac65007"));
        assert!(hex::encode(sha512(b"abc")).starts_with("ddaf35a193617abacc417349ae204131"));
    }

    /// The "abc" examples of FIPS 180-4 (NIST's SHA examples) and FIPS 202
    /// (NIST's SHA-3 examples), and the empty-input SHA3-256 value.
    #[test]
    fn digest_known_answers() {
        let cases = [
            (
                "sha2-224",
                "abc",
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                "sha2-256",
                "abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                "sha2-384",
                "abc",
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                "sha2-512",
                "abc",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
            (
                "sha3-256",
                "abc",
                "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
            ),
            (
                "sha3-384",
                "abc",
                "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25",
            ),
            (
                "sha3-512",
                "abc",
                "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
            ),
            (
                "sha3-256",
                "",
                "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
            ),
        ];
        for (name, input, want) in cases {
            let alg = DigestAlgorithm::from_name(name).unwrap();
            assert_eq!(alg.name(), name);
            assert_eq!(hex::encode(digest(alg, input.as_bytes())), want, "{name}");
        }
        assert_eq!(DigestAlgorithm::from_name("sha3-224"), None);
        assert_eq!(DigestAlgorithm::from_name("md5"), None);
    }

    #[test]
    fn hmac_rfc4231_case_2() {
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hkdf_rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let mut out = [0u8; 42];
        hkdf_sha256(&ikm, &salt, &info, &mut out).unwrap();
        assert_eq!(
            hex::encode(out),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn hkdf_rejects_bad_lengths() {
        assert!(hkdf_sha256(b"k", b"", b"", &mut []).is_err());
        assert!(hkdf_sha256(b"k", b"", b"", &mut vec![0u8; 255 * 32 + 1]).is_err());
        assert!(hkdf_sha256(b"k", b"", b"", &mut vec![0u8; 255 * 32]).is_ok());
    }

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(ct_eq(b"", b""));
    }
}
