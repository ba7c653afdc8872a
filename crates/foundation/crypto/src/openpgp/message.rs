//! Building the encrypted message (RFC 4880 section 11.3): one Public-Key
//! Encrypted Session Key packet (version 3) for the chosen key, then a
//! Symmetrically Encrypted Integrity Protected Data packet (version 1:
//! AES-256 in OpenPGP's CFB mode with a modification detection code)
//! holding one literal data packet. This is what Vault's Go library writes
//! and what every OpenPGP implementation, GnuPG 2.2 onward included, reads.
//!
//! The session key is fresh for every message, drawn from the OS CSPRNG,
//! and every buffer that holds it or the plaintext is zeroized.

use aws_lc_rs::agreement::{self, EphemeralPrivateKey, X25519};
use aws_lc_rs::cipher::{self, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::digest;
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::key_wrap::{self, AesKek, KeyWrap};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{Pkcs1PublicEncryptingKey, PublicEncryptingKey};
use zeroize::Zeroizing;

use super::key::{KdfParams, Material, OID_CV25519, Selected, algo};
use super::packet::{tag, write_mpi, write_packet};
use crate::CryptoError;

/// The symmetric algorithm id of AES-256.
const SYM_AES256: u8 = 9;
/// The block size of AES.
const BLOCK: usize = 16;

/// Encrypts `plaintext` to `key`: the binary OpenPGP message.
pub(super) fn encrypt(key: &Selected, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let session = crate::random_key()?;
    let pkesk = session_key_packet(key, session.expose())?;
    let seipd = encrypted_data(session.expose(), plaintext)?;
    let mut out = Vec::with_capacity(pkesk.len() + seipd.len() + 12);
    write_packet(&mut out, tag::PKESK, &pkesk);
    write_packet(&mut out, tag::SEIPD, &seipd);
    Ok(out)
}

/// `algorithm || session key || checksum` (RFC 4880 section 5.1): what the
/// public key encrypts.
fn session_key_block(session: &[u8; 32]) -> Zeroizing<Vec<u8>> {
    // Room for ECDH's padding too, so the buffer never reallocates.
    let mut m = Zeroizing::new(Vec::with_capacity(1 + 32 + 2 + 8));
    m.push(SYM_AES256);
    m.extend_from_slice(session);
    let sum = session
        .iter()
        .fold(0u16, |acc, &b| acc.wrapping_add(u16::from(b)));
    m.extend_from_slice(&sum.to_be_bytes());
    m
}

/// The body of the PKESK packet for `key`.
fn session_key_packet(key: &Selected, session: &[u8; 32]) -> Result<Vec<u8>, CryptoError> {
    let m = session_key_block(session);
    let mut body = vec![3];
    body.extend_from_slice(&key.key_id);
    match &key.material {
        Material::Rsa { n, e } => {
            body.push(key.algorithm);
            let public = PublicEncryptingKey::from_der(&rsa_spki(n, e))
                .map_err(|_| CryptoError::PgpKey("the RSA key is not usable".into()))?;
            let public = Pkcs1PublicEncryptingKey::new(public).map_err(|_| CryptoError::Encrypt)?;
            let mut ciphertext = vec![0u8; public.ciphertext_size()];
            let c = public
                .encrypt(&m, &mut ciphertext)
                .map_err(|_| CryptoError::Encrypt)?;
            write_mpi(&mut body, c);
        }
        Material::Cv25519 { point, kdf } => {
            body.push(algo::ECDH);
            let ephemeral = EphemeralPrivateKey::generate(&X25519, &SystemRandom::new())
                .map_err(|_| CryptoError::Random)?;
            let ephemeral_public = ephemeral
                .compute_public_key()
                .map_err(|_| CryptoError::Encrypt)?;
            let recipient = agreement::UnparsedPublicKey::new(&X25519, point);
            let wrapped = agreement::agree_ephemeral(
                ephemeral,
                recipient,
                CryptoError::PgpKey("the Curve25519 key is not usable".into()),
                |shared| wrap_session_key(shared, *kdf, &key.fingerprint, &m),
            )?;
            let mut prefixed = Vec::with_capacity(33);
            prefixed.push(0x40);
            prefixed.extend_from_slice(ephemeral_public.as_ref());
            write_mpi(&mut body, &prefixed);
            body.push(u8::try_from(wrapped.len()).map_err(|_| CryptoError::Encrypt)?);
            body.extend_from_slice(&wrapped);
        }
        _ => return Err(CryptoError::Encrypt),
    }
    Ok(body)
}

/// RFC 6637 sections 7 and 8: derives the KEK from the shared secret and
/// wraps the (PKCS#5-padded) session key block with AES key wrap.
fn wrap_session_key(
    shared: &[u8],
    kdf: KdfParams,
    fingerprint: &[u8; 20],
    m: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let kek = derive_kek(shared, kdf, fingerprint);
    let mut padded = Zeroizing::new(Vec::with_capacity(m.len() + 8));
    padded.extend_from_slice(m);
    let pad = 8 - m.len() % 8;
    padded.resize(m.len() + pad, pad as u8);
    let algorithm = if kdf.kek_len() == 16 {
        &key_wrap::AES_128
    } else {
        &key_wrap::AES_256
    };
    let kek = AesKek::new(algorithm, &kek).map_err(|_| CryptoError::Encrypt)?;
    let mut out = vec![0u8; padded.len() + 8];
    let len = kek
        .wrap(&padded, &mut out)
        .map_err(|_| CryptoError::Encrypt)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// The KDF of RFC 6637 section 7: `Hash(00 00 00 01 || shared || param)`
/// truncated to the KEK's length.
pub(super) fn derive_kek(
    shared: &[u8],
    kdf: KdfParams,
    fingerprint: &[u8; 20],
) -> Zeroizing<Vec<u8>> {
    let mut ctx = digest::Context::new(kdf.hash());
    ctx.update(&[0, 0, 0, 1]);
    ctx.update(shared);
    ctx.update(&[OID_CV25519.len() as u8]);
    ctx.update(OID_CV25519);
    ctx.update(&[algo::ECDH, 3, 1, kdf.hash_id, kdf.kek_id]);
    ctx.update(b"Anonymous Sender    ");
    ctx.update(fingerprint);
    let hash = ctx.finish();
    Zeroizing::new(hash.as_ref()[..kdf.kek_len()].to_vec())
}

/// The body of the SEIPD packet: version 1, then CFB (zero IV, no
/// resynchronisation) over the random prefix, a literal data packet and
/// the MDC packet.
fn encrypted_data(session: &[u8; 32], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    // prefix + literal header (at most 6) and fields (6) + plaintext + MDC.
    let capacity = BLOCK + 2 + 12 + plaintext.len() + 22;
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    let mut prefix = [0u8; BLOCK + 2];
    crate::fill_random(&mut prefix[..BLOCK])?;
    prefix[BLOCK] = prefix[BLOCK - 2];
    prefix[BLOCK + 1] = prefix[BLOCK - 1];
    buf.extend_from_slice(&prefix);
    // Binary, no file name, no date: the bytes come back exactly.
    let mut literal = Zeroizing::new(Vec::with_capacity(6 + plaintext.len()));
    literal.extend_from_slice(&[b'b', 0, 0, 0, 0, 0]);
    literal.extend_from_slice(plaintext);
    write_packet(&mut buf, tag::LITERAL, &literal);
    buf.extend_from_slice(&[0xc0 | tag::MDC, 0x14]);
    let mdc = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &buf);
    buf.extend_from_slice(mdc.as_ref());
    let key = UnboundCipherKey::new(&cipher::AES_256, session)
        .and_then(EncryptingKey::cfb128)
        .map_err(|_| CryptoError::Encrypt)?;
    key.less_safe_encrypt(
        &mut buf,
        EncryptionContext::Iv128(FixedLength::from([0u8; BLOCK])),
    )
    .map_err(|_| CryptoError::Encrypt)?;
    let mut body = Vec::with_capacity(1 + buf.len());
    body.push(1);
    body.extend_from_slice(&buf);
    Ok(body)
}

/// A DER `SubjectPublicKeyInfo` for the RSA key `(n, e)`, the form
/// aws-lc-rs reads public encryption keys in.
fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut rsa_key = Vec::new();
    der_integer(&mut rsa_key, n);
    der_integer(&mut rsa_key, e);
    let rsa_key = der(0x30, &rsa_key);
    let mut bit_string = vec![0u8];
    bit_string.extend_from_slice(&rsa_key);
    // AlgorithmIdentifier: rsaEncryption (1.2.840.113549.1.1.1), NULL.
    let mut spki = vec![
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    spki.extend_from_slice(&der(0x03, &bit_string));
    der(0x30, &spki)
}

/// A DER INTEGER holding the non-negative big-endian `magnitude`.
fn der_integer(out: &mut Vec<u8>, magnitude: &[u8]) {
    let mut v = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|&b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(magnitude);
    out.extend_from_slice(&der(0x02, &v));
}

/// A DER element: tag, definite length, contents.
fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_block_has_algorithm_and_checksum() {
        let m = session_key_block(&[1u8; 32]);
        assert_eq!(m.len(), 35);
        assert_eq!(m[0], SYM_AES256);
        assert_eq!(&m[33..], &32u16.to_be_bytes());
        let m = session_key_block(&[0xffu8; 32]);
        assert_eq!(&m[33..], &(32u16 * 255).to_be_bytes());
    }

    #[test]
    fn der_lengths_and_integer_signs() {
        assert_eq!(der(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        assert_eq!(&der(0x04, &[0; 200])[..3], &[0x04, 0x81, 200]);
        assert_eq!(&der(0x04, &[0; 400])[..4], &[0x04, 0x82, 0x01, 0x90]);
        let mut out = Vec::new();
        der_integer(&mut out, &[0x80]);
        assert_eq!(out, [0x02, 2, 0, 0x80]);
        out.clear();
        der_integer(&mut out, &[0x01, 0x00, 0x01]);
        assert_eq!(out, [0x02, 3, 1, 0, 1]);
    }
}
