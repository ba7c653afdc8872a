//! The only crate that touches cryptographic primitives: AEAD keyring, HKDF,
//! HMAC, Shamir, random ids and tokens, constant-time comparison, password
//! hashing, Ed25519 signatures.
//!
//! Everything is built on `aws-lc-rs` (AES-256-GCM, HMAC-SHA-256, SHA-2 and SHA-3,
//! HKDF, Ed25519, the OS CSPRNG), `vsss-rs` (Shamir secret sharing over GF(2^8)) and
//! `argon2` (Argon2id password hashing, salted from the aws-lc-rs CSPRNG).
//! Key material lives in [`Secret`]s, which are zeroized on drop and never
//! printed.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aead;
mod error;
mod hash;
mod keyring;
pub mod openpgp;
mod password;
mod random;
mod rng;
mod secret;
mod shamir;
mod signing;

pub use aead::{NONCE_LEN, TAG_LEN, open_with_key, seal_with_key};
pub use error::CryptoError;
pub use hash::{
    DigestAlgorithm, HmacSha256Key, ct_eq, digest, hkdf_sha256, hmac_sha256, sha256, sha384, sha512,
};
pub use keyring::{CIPHERTEXT_VERSION, KeyStatus, Keyring};
pub use password::{
    PASSWORD_HASH_PARAMS, PasswordHashParams, hash_password, verify_against_dummy, verify_password,
};
pub use random::{
    fill_random, random_alphanumeric, random_from_charset, random_index, random_key,
    random_shuffle, random_token, random_uuid,
};
pub use secret::Secret;
pub use shamir::{combine_shares, split_secret};
pub use signing::{
    ED25519_PUBLIC_KEY_LEN, ED25519_SIGNATURE_LEN, Ed25519Key, ed25519_generate,
    ed25519_public_key, ed25519_sign, ed25519_verify,
};
