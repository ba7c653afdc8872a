//! Tests of the OpenPGP module: keys exported by GnuPG (fingerprints and
//! key choice checked against what `gpg --list-keys` printed), keys built
//! here from aws-lc-rs key pairs (so every message can be decrypted back
//! without GnuPG), and broken inputs, which must fail without panicking.
//! Decryption by GnuPG itself is in `tests/openpgp_gnupg.rs`.

use aws_lc_rs::agreement::{self, X25519};
use aws_lc_rs::cipher::{self, DecryptingKey, DecryptionContext, UnboundCipherKey};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::key_wrap::{self, AesKek, KeyWrap};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair};
use base64::Engine as _;

use super::key::{KdfParams, OID_CV25519, algo};
use super::packet::{Reader, split, tag, write_mpi, write_packet};
use super::*;

const RSA3072: &str = include_str!("testdata/rsa3072.asc");
const CV25519: &str = include_str!("testdata/cv25519.asc");
const RSA_SCE: &str = include_str!("testdata/rsa2048-sce.asc");
const RSA_SIGN_ONLY: &str = include_str!("testdata/rsa-sign-only.asc");

/// 2030-01-01, after every key here was made.
const NOW: u64 = 1_893_456_000;

fn binary(armored: &str) -> Vec<u8> {
    armor::decode(armored).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn pgp_err(r: Result<PublicKey, CryptoError>) -> String {
    match r {
        Err(CryptoError::PgpKey(m)) => m,
        other => panic!("expected a PgpKey error, got {other:?}"),
    }
}

// ---- keys exported by GnuPG ----

#[test]
fn gnupg_keys_have_gnupgs_fingerprints_and_encryption_keys() {
    for (armored, fingerprint, key_id) in [
        (
            RSA3072,
            "1e5d6ec3dccacbeafbaac141f7e0a81fe7f47e75",
            "36ea901f5a608cc8",
        ),
        (
            CV25519,
            "a8e9e028a2fb7542777ef50cc78519eeca10020a",
            "6190d67aa7a5e3fe",
        ),
        (
            RSA_SCE,
            "b20658dec0f0746af47cb79aca489e3de3899d73",
            "ca489e3de3899d73",
        ),
    ] {
        let key = PublicKey::parse_at(armored, NOW).unwrap();
        assert_eq!(key.fingerprint(), fingerprint);
        assert_eq!(hex::encode(key.selected.key_id), key_id, "{fingerprint}");
        // Vault's form, base64 of the binary export, reads the same.
        let from_b64 = PublicKey::parse_at(&b64(&binary(armored)), NOW).unwrap();
        assert_eq!(from_b64.fingerprint(), fingerprint);
        assert!(format!("{key:?}").contains(fingerprint));
    }
    let cv = PublicKey::parse_at(CV25519, NOW).unwrap();
    assert!(matches!(
        cv.selected.material,
        key::Material::Cv25519 {
            kdf: KdfParams {
                hash_id: 8,
                kek_id: 7
            },
            ..
        }
    ));
}

#[test]
fn a_sign_only_key_is_refused() {
    let err = pgp_err(PublicKey::parse_at(RSA_SIGN_ONLY, NOW));
    assert!(err.contains("no encryption key"), "{err}");
}

#[test]
fn encrypting_to_gnupg_keys_names_the_subkey() {
    for armored in [RSA3072, CV25519] {
        let key = PublicKey::parse_at(armored, NOW).unwrap();
        let message = key.encrypt(b"0123abcd").unwrap();
        let packets = split(&message).unwrap();
        assert_eq!(
            packets.iter().map(|p| p.tag).collect::<Vec<_>>(),
            [tag::PKESK, tag::SEIPD]
        );
        assert_eq!(packets[0].body[0], 3);
        assert_eq!(packets[0].body[1..9], key.selected.key_id);
        assert_eq!(packets[1].body[0], 1);
        // A fresh session key every time.
        assert_ne!(key.encrypt(b"0123abcd").unwrap(), message);
    }
}

#[test]
fn bad_base64_names_the_byte_like_go() {
    match PublicKey::parse("mQGNBGsX*kIB") {
        Err(CryptoError::PgpKeyEncoding(m)) => {
            assert_eq!(m, "illegal base64 data at input byte 8")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        PublicKey::parse("   "),
        Err(CryptoError::PgpKey(_))
    ));
    // Line breaks are ignored, as Go's decoder does.
    let wrapped: String = b64(&binary(RSA3072))
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert!(PublicKey::parse_at(&wrapped, NOW).is_ok());
}

#[test]
fn every_truncation_fails_cleanly() {
    for armored in [RSA3072, CV25519] {
        let full = binary(armored);
        let packets = split(&full).unwrap();
        // Offsets where a packet ends: cutting there leaves a well-formed
        // (shorter) key, which may or may not still have an encryption key.
        let mut ends = Vec::new();
        let mut at = 0;
        for p in &packets {
            at = p.body.as_ptr() as usize - full.as_ptr() as usize + p.body.len();
            ends.push(at);
        }
        assert_eq!(at, full.len());
        for cut in 0..full.len() {
            let result = PublicKey::from_binary_at(&full[..cut], NOW);
            if !ends.contains(&cut) {
                assert!(result.is_err(), "cut at {cut} accepted");
            }
        }
    }
}

#[test]
fn flipped_bytes_never_panic_and_broken_bindings_are_refused() {
    for armored in [RSA3072, CV25519] {
        let full = binary(armored);
        let good = PublicKey::from_binary_at(&full, NOW).unwrap();
        for i in 0..full.len() {
            let mut bad = full.clone();
            bad[i] ^= 0x41;
            // Anything may fail; whatever is accepted must still encrypt to
            // a key the primary key vouches for (or the primary itself).
            if let Ok(key) = PublicKey::from_binary_at(&bad, NOW) {
                let _ = key.encrypt(b"x");
                if key.fingerprint() == good.fingerprint() {
                    assert_eq!(key.selected.key_id, good.selected.key_id, "flip at {i}");
                }
            }
        }
    }
}

#[test]
fn a_tampered_subkey_is_not_used() {
    let full = binary(CV25519);
    let packets = split(&full).unwrap();
    let sub = packets
        .iter()
        .find(|p| p.tag == tag::PUBLIC_SUBKEY)
        .unwrap();
    let offset = sub.body.as_ptr() as usize - full.as_ptr() as usize;
    // Swap in another public point: the binding signature no longer holds.
    let mut bad = full.clone();
    let last = offset + sub.body.len() - 5;
    bad[last] ^= 1;
    let err = pgp_err(PublicKey::from_binary_at(&bad, NOW));
    assert!(err.contains("not bound to the primary key"), "{err}");
}

#[test]
fn secret_keys_and_several_keys_are_refused() {
    let mut two = binary(RSA3072);
    two.extend(binary(CV25519));
    let err = pgp_err(PublicKey::from_binary_at(&two, NOW));
    assert!(err.contains("more than one key"), "{err}");
    let mut secret = binary(RSA3072);
    // Old-format header: turn tag 6 (public key) into tag 5 (secret key).
    secret[0] = (secret[0] & !0x3c) | (tag::SECRET_KEY << 2);
    let err = pgp_err(PublicKey::from_binary_at(&secret, NOW));
    assert!(err.contains("secret key"), "{err}");
    let err = pgp_err(PublicKey::from_binary_at(&binary(RSA3072)[400..], NOW));
    assert!(err.contains("must start with a public key"), "{err}");
}

// ---- keys built here, decrypted here ----

fn key_body(created: u32, algorithm: u8, material: &[u8]) -> Vec<u8> {
    let mut body = vec![4];
    body.extend_from_slice(&created.to_be_bytes());
    body.push(algorithm);
    body.extend_from_slice(material);
    body
}

fn rsa_material(pair: &rsa::KeyPair) -> Vec<u8> {
    let public = pair.public_key();
    let mut m = Vec::new();
    write_mpi(&mut m, public.modulus().big_endian_without_leading_zero());
    write_mpi(&mut m, public.exponent().big_endian_without_leading_zero());
    m
}

fn prefixed(point: &[u8]) -> Vec<u8> {
    let mut p = vec![0x40];
    p.extend_from_slice(point);
    p
}

fn ed25519_material(pair: &Ed25519KeyPair) -> Vec<u8> {
    let mut m = vec![9, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01];
    write_mpi(&mut m, &prefixed(pair.public_key().as_ref()));
    m
}

fn cv25519_material(public: &[u8], kdf: KdfParams) -> Vec<u8> {
    let mut m = vec![OID_CV25519.len() as u8];
    m.extend_from_slice(OID_CV25519);
    write_mpi(&mut m, &prefixed(public));
    m.extend_from_slice(&[3, 1, kdf.hash_id, kdf.kek_id]);
    m
}

/// Who signs a test signature.
enum Signer<'a> {
    Rsa(&'a rsa::KeyPair),
    Ed(&'a Ed25519KeyPair),
}

/// A v4 signature of `sig_type` over `signed` (the RFC 4880 5.2.4 prefix),
/// with a creation time, optional key flags and optional key expiry.
fn signature_packet(
    signer: &Signer<'_>,
    sig_type: u8,
    signed: &[u8],
    created: u32,
    flags: Option<u8>,
    expiry: Option<u32>,
) -> Vec<u8> {
    let pk_alg = match signer {
        Signer::Rsa(_) => algo::RSA,
        Signer::Ed(_) => algo::EDDSA_LEGACY,
    };
    let mut hashed = vec![5, 2];
    hashed.extend_from_slice(&created.to_be_bytes());
    if let Some(f) = flags {
        hashed.extend_from_slice(&[2, 27, f]);
    }
    if let Some(e) = expiry {
        hashed.extend_from_slice(&[5, 9]);
        hashed.extend_from_slice(&e.to_be_bytes());
    }
    let mut body = vec![4, sig_type, pk_alg, 8];
    body.extend_from_slice(&(hashed.len() as u16).to_be_bytes());
    body.extend_from_slice(&hashed);
    let mut data = signed.to_vec();
    data.extend_from_slice(&body);
    data.extend_from_slice(&[4, 0xff]);
    data.extend_from_slice(&(body.len() as u32).to_be_bytes());
    let hash = digest::digest(&digest::SHA256, &data);
    body.extend_from_slice(&[0, 0]); // no unhashed subpackets
    body.extend_from_slice(&hash.as_ref()[..2]);
    match signer {
        Signer::Rsa(pair) => {
            let mut sig = vec![0u8; pair.public_modulus_len()];
            pair.sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                &data,
                &mut sig,
            )
            .unwrap();
            write_mpi(&mut body, &sig);
        }
        Signer::Ed(pair) => {
            let sig = pair.sign(hash.as_ref());
            write_mpi(&mut body, &sig.as_ref()[..32]);
            write_mpi(&mut body, &sig.as_ref()[32..]);
        }
    }
    let mut out = Vec::new();
    write_packet(&mut out, tag::SIGNATURE, &body);
    out
}

fn key_prefix(body: &[u8]) -> Vec<u8> {
    let mut v = vec![0x99];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn uid_prefix(primary: &[u8], uid: &[u8]) -> Vec<u8> {
    let mut v = key_prefix(primary);
    v.push(0xb4);
    v.extend_from_slice(&(uid.len() as u32).to_be_bytes());
    v.extend_from_slice(uid);
    v
}

/// A certificate: primary key, one user ID with a self-signature carrying
/// `primary_flags`, then the given subkey packets and their signatures.
fn certificate(
    signer: &Signer<'_>,
    primary: &[u8],
    primary_flags: Option<u8>,
    rest: &[Vec<u8>],
) -> Vec<u8> {
    let uid = b"Coffer Test <test@example.com>";
    let mut out = Vec::new();
    write_packet(&mut out, tag::PUBLIC_KEY, primary);
    write_packet(&mut out, tag::USER_ID, uid);
    out.extend(signature_packet(
        signer,
        0x13,
        &uid_prefix(primary, uid),
        1_700_000_000,
        primary_flags,
        None,
    ));
    for r in rest {
        out.extend_from_slice(r);
    }
    out
}

fn subkey_packet(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_packet(&mut out, tag::PUBLIC_SUBKEY, body);
    out
}

fn binding(
    signer: &Signer<'_>,
    primary: &[u8],
    sub: &[u8],
    flags: u8,
    expiry: Option<u32>,
) -> Vec<u8> {
    let mut signed = key_prefix(primary);
    signed.extend(key_prefix(sub));
    signature_packet(signer, 0x18, &signed, 1_700_000_000, Some(flags), expiry)
}

/// Decrypts the SEIPD packet with `session` and returns the literal data,
/// checking the quick-check bytes and the MDC on the way.
fn open_seipd(session: &[u8], body: &[u8]) -> Vec<u8> {
    assert_eq!(body[0], 1);
    let mut buf = body[1..].to_vec();
    let key =
        DecryptingKey::cfb128(UnboundCipherKey::new(&cipher::AES_256, session).unwrap()).unwrap();
    key.decrypt(
        &mut buf,
        DecryptionContext::Iv128(FixedLength::from([0u8; 16])),
    )
    .unwrap();
    assert_eq!(buf[14..16], buf[16..18], "quick check");
    let (covered, mdc) = buf.split_at(buf.len() - 20);
    assert_eq!(&covered[covered.len() - 2..], &[0xd3, 0x14]);
    assert_eq!(
        digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, covered).as_ref(),
        mdc
    );
    let inner = split(&covered[18..covered.len() - 2]).unwrap();
    assert_eq!(inner.len(), 1);
    assert_eq!(inner[0].tag, tag::LITERAL);
    let literal = inner[0].body;
    assert_eq!(&literal[..6], &[b'b', 0, 0, 0, 0, 0]);
    literal[6..].to_vec()
}

/// Checks and strips `algorithm || key || checksum`.
fn session_from_block(m: &[u8]) -> Vec<u8> {
    assert_eq!(m.len(), 35);
    assert_eq!(m[0], 9, "AES-256");
    let sum = m[1..33]
        .iter()
        .fold(0u16, |a, &b| a.wrapping_add(u16::from(b)));
    assert_eq!(m[33..], sum.to_be_bytes());
    m[1..33].to_vec()
}

#[test]
fn rsa_primary_round_trip() {
    let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap();
    let primary = key_body(1_700_000_000, algo::RSA, &rsa_material(&pair));
    let cert = certificate(&Signer::Rsa(&pair), &primary, Some(0x0f), &[]);
    let key = PublicKey::parse_at(&b64(&cert), NOW).unwrap();
    let plaintext = b"4f1e0c2b9d8a7f6e5d4c3b2a19080706050403020100ffeeddccbbaa99887766";
    let message = key.encrypt(plaintext).unwrap();
    let packets = split(&message).unwrap();
    let mut r = Reader::new(packets[0].body);
    assert_eq!(r.u8().unwrap(), 3);
    assert_eq!(r.take(8).unwrap(), &key.selected.key_id);
    assert_eq!(r.u8().unwrap(), algo::RSA);
    let c = r.mpi().unwrap();
    assert!(r.is_empty());
    let private = PrivateDecryptingKey::from_pkcs8(pair.as_der().unwrap().as_ref()).unwrap();
    let private = Pkcs1PrivateDecryptingKey::new(private).unwrap();
    let mut padded = vec![0u8; 256 - c.len()];
    padded.extend_from_slice(c);
    let mut out = vec![0u8; 256];
    let m = private.decrypt(&padded, &mut out).unwrap();
    let session = session_from_block(m);
    assert_eq!(open_seipd(&session, packets[1].body), plaintext);
}

#[test]
fn rsa_keys_below_2048_bits_are_refused() {
    // A 1024-bit modulus and e = 65537, no signatures needed: the primary
    // key with no verified flags and no subkeys is used.
    let mut material = Vec::new();
    let mut n = vec![0xc5u8; 128];
    n[127] = 0x01;
    write_mpi(&mut material, &n);
    write_mpi(&mut material, &[1, 0, 1]);
    let mut cert = Vec::new();
    write_packet(
        &mut cert,
        tag::PUBLIC_KEY,
        &key_body(1, algo::RSA, &material),
    );
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert!(err.contains("2048 bits"), "{err}");
}

struct Cv25519Key {
    private: agreement::PrivateKey,
    body: Vec<u8>,
}

fn cv25519_key(created: u32, kdf: KdfParams) -> Cv25519Key {
    let private = agreement::PrivateKey::generate(&X25519).unwrap();
    let public = private.compute_public_key().unwrap();
    let body = key_body(created, algo::ECDH, &cv25519_material(public.as_ref(), kdf));
    Cv25519Key { private, body }
}

fn ed25519_pair() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// Decrypts an ECDH PKESK with `sub` and returns the session key.
fn open_ecdh(sub: &Cv25519Key, kdf: KdfParams, pkesk: &[u8]) -> Vec<u8> {
    let mut r = Reader::new(pkesk);
    assert_eq!(r.u8().unwrap(), 3);
    let key_id = r.take(8).unwrap();
    assert_eq!(r.u8().unwrap(), algo::ECDH);
    let ephemeral = r.mpi().unwrap();
    assert_eq!(ephemeral.len(), 33);
    assert_eq!(ephemeral[0], 0x40);
    let len = usize::from(r.u8().unwrap());
    let wrapped = r.take(len).unwrap();
    assert!(r.is_empty());
    let parsed = key::parse_key(&sub.body).unwrap();
    assert_eq!(parsed.key_id(), key_id);
    let peer = agreement::UnparsedPublicKey::new(&X25519, &ephemeral[1..]);
    let m = agreement::agree(&sub.private, peer, (), |shared| {
        let kek = message::derive_kek(shared, kdf, &parsed.fingerprint);
        let alg = if kek.len() == 16 {
            &key_wrap::AES_128
        } else {
            &key_wrap::AES_256
        };
        let mut out = vec![0u8; wrapped.len()];
        let len = AesKek::new(alg, &kek)
            .unwrap()
            .unwrap(wrapped, &mut out)
            .unwrap()
            .len();
        out.truncate(len);
        Ok(out)
    })
    .unwrap();
    // PKCS#5 padding to 8 bytes: 35 + 5 x 0x05.
    assert_eq!(m.len(), 40);
    assert!(m[35..].iter().all(|&b| b == 5));
    session_from_block(&m[..35])
}

#[test]
fn cv25519_subkey_round_trip_for_each_kdf() {
    for kdf in [
        KdfParams {
            hash_id: 8,
            kek_id: 7,
        },
        KdfParams {
            hash_id: 10,
            kek_id: 9,
        },
    ] {
        let ed = ed25519_pair();
        let signer = Signer::Ed(&ed);
        let primary = key_body(1_700_000_000, algo::EDDSA_LEGACY, &ed25519_material(&ed));
        let sub = cv25519_key(1_700_000_100, kdf);
        let cert = certificate(
            &signer,
            &primary,
            Some(0x03),
            &[
                subkey_packet(&sub.body),
                binding(&signer, &primary, &sub.body, 0x0c, None),
            ],
        );
        let key = PublicKey::from_binary_at(&cert, NOW).unwrap();
        assert_eq!(
            key.fingerprint(),
            hex::encode(key::parse_key(&primary).unwrap().fingerprint)
        );
        let plaintext = b"hvs.ABCDEFGHIJKLMNOPQRSTUVWX";
        let message = key.encrypt(plaintext).unwrap();
        let packets = split(&message).unwrap();
        let session = open_ecdh(&sub, kdf, packets[0].body);
        assert_eq!(open_seipd(&session, packets[1].body), plaintext);
    }
}

/// An Ed25519 primary with the given subkeys (each with its binding).
fn ed_certificate(ed: &Ed25519KeyPair, subs: &[(Vec<u8>, Vec<u8>)]) -> (Vec<u8>, Vec<u8>) {
    let primary = key_body(1_700_000_000, algo::EDDSA_LEGACY, &ed25519_material(ed));
    let mut rest = Vec::new();
    for (body, sigs) in subs {
        rest.push(subkey_packet(body));
        rest.push(sigs.clone());
    }
    (
        certificate(&Signer::Ed(ed), &primary, Some(0x03), &rest),
        primary,
    )
}

const KDF: KdfParams = KdfParams {
    hash_id: 8,
    kek_id: 7,
};

#[test]
fn subkey_choice_follows_bindings_flags_expiry_and_revocation() {
    let ed = ed25519_pair();
    let signer = Signer::Ed(&ed);
    let primary = key_body(1_700_000_000, algo::EDDSA_LEGACY, &ed25519_material(&ed));
    let old = cv25519_key(1_700_000_100, KDF);
    let new = cv25519_key(1_700_000_200, KDF);
    let id = |k: &Cv25519Key| key::parse_key(&k.body).unwrap().key_id();

    // The newest valid encryption subkey wins.
    let both = [
        (
            old.body.clone(),
            binding(&signer, &primary, &old.body, 0x0c, None),
        ),
        (
            new.body.clone(),
            binding(&signer, &primary, &new.body, 0x0c, None),
        ),
    ];
    let (cert, _) = ed_certificate(&ed, &both);
    assert_eq!(
        PublicKey::from_binary_at(&cert, NOW)
            .unwrap()
            .selected
            .key_id,
        id(&new)
    );

    // The newer one expired (one day after creation): the older one is used.
    let expiring = [
        (
            old.body.clone(),
            binding(&signer, &primary, &old.body, 0x0c, None),
        ),
        (
            new.body.clone(),
            binding(&signer, &primary, &new.body, 0x0c, Some(86_400)),
        ),
    ];
    let (cert, _) = ed_certificate(&ed, &expiring);
    assert_eq!(
        PublicKey::from_binary_at(&cert, NOW)
            .unwrap()
            .selected
            .key_id,
        id(&old)
    );
    // ... but before it expired, it was the one.
    assert_eq!(
        PublicKey::from_binary_at(&cert, 1_700_000_300)
            .unwrap()
            .selected
            .key_id,
        id(&new)
    );

    // A newer subkey flagged for signing only is not an encryption key.
    let signing_only = [
        (
            old.body.clone(),
            binding(&signer, &primary, &old.body, 0x0c, None),
        ),
        (
            new.body.clone(),
            binding(&signer, &primary, &new.body, 0x02, None),
        ),
    ];
    let (cert, _) = ed_certificate(&ed, &signing_only);
    assert_eq!(
        PublicKey::from_binary_at(&cert, NOW)
            .unwrap()
            .selected
            .key_id,
        id(&old)
    );

    // A verified revocation removes the subkey.
    let mut revoked_sigs = binding(&signer, &primary, &new.body, 0x0c, None);
    let mut signed = key_prefix(&primary);
    signed.extend(key_prefix(&new.body));
    revoked_sigs.extend(signature_packet(
        &signer,
        0x28,
        &signed,
        1_700_000_300,
        None,
        None,
    ));
    let (cert, _) = ed_certificate(&ed, &[(new.body.clone(), revoked_sigs)]);
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert!(err.contains("has been revoked"), "{err}");

    // A binding made by another key is ignored, with the reason kept.
    let stranger = ed25519_pair();
    let forged = [(
        new.body.clone(),
        binding(&Signer::Ed(&stranger), &primary, &new.body, 0x0c, None),
    )];
    let (cert, _) = ed_certificate(&ed, &forged);
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert!(
        err.contains("not bound") && err.contains("does not verify"),
        "{err}"
    );

    // No binding at all.
    let (cert, _) = ed_certificate(&ed, &[(new.body.clone(), Vec::new())]);
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert!(err.contains("no binding signature"), "{err}");
}

#[test]
fn unsupported_algorithms_are_named() {
    let ed = ed25519_pair();
    let signer = Signer::Ed(&ed);
    let primary = key_body(1_700_000_000, algo::EDDSA_LEGACY, &ed25519_material(&ed));
    // An Elgamal subkey (p, g, y).
    let mut elgamal = Vec::new();
    for _ in 0..3 {
        write_mpi(&mut elgamal, &[0x7f; 64]);
    }
    let elgamal = key_body(1_700_000_100, algo::ELGAMAL, &elgamal);
    let (cert, _) = ed_certificate(
        &ed,
        &[(
            elgamal.clone(),
            binding(&signer, &primary, &elgamal, 0x0c, None),
        )],
    );
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert!(
        err.contains("unsupported OpenPGP public key algorithm 16"),
        "{err}"
    );

    // ECDH over NIST P-256.
    let mut p256 = vec![8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut point = vec![4u8];
    point.extend([1u8; 64]);
    write_mpi(&mut p256, &point);
    p256.extend_from_slice(&[3, 1, 8, 7]);
    let p256 = key_body(1_700_000_100, algo::ECDH, &p256);
    let (cert, _) = ed_certificate(
        &ed,
        &[(p256.clone(), binding(&signer, &primary, &p256, 0x0c, None))],
    );
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert!(
        err.contains("unsupported OpenPGP ECDH curve 1.2.840.10045.3.1.7"),
        "{err}"
    );

    // A DSA primary key alone.
    let mut dsa = Vec::new();
    for _ in 0..4 {
        write_mpi(&mut dsa, &[0x7f; 32]);
    }
    let mut cert = Vec::new();
    write_packet(&mut cert, tag::PUBLIC_KEY, &key_body(1, 17, &dsa));
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert!(err.contains("no encryption key"), "{err}");

    // A version 5 key.
    let mut cert = Vec::new();
    write_packet(&mut cert, tag::PUBLIC_KEY, &[5, 0, 0, 0, 1, 1]);
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert_eq!(err, "unsupported OpenPGP key version 5");
}

#[test]
fn an_expired_or_revoked_primary_is_refused() {
    let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap();
    let signer = Signer::Rsa(&pair);
    let primary = key_body(1_700_000_000, algo::RSA, &rsa_material(&pair));
    let uid = b"x";
    let mut cert = Vec::new();
    write_packet(&mut cert, tag::PUBLIC_KEY, &primary);
    write_packet(&mut cert, tag::USER_ID, uid);
    cert.extend(signature_packet(
        &signer,
        0x13,
        &uid_prefix(&primary, uid),
        1_700_000_000,
        Some(0x0f),
        Some(1000),
    ));
    let err = pgp_err(PublicKey::from_binary_at(&cert, NOW));
    assert_eq!(err, "the PGP key has expired");
    assert!(PublicKey::from_binary_at(&cert, 1_700_000_500).is_ok());

    let mut revoked = Vec::new();
    write_packet(&mut revoked, tag::PUBLIC_KEY, &primary);
    revoked.extend(signature_packet(
        &signer,
        0x20,
        &key_prefix(&primary),
        1_700_000_000,
        None,
        None,
    ));
    let err = pgp_err(PublicKey::from_binary_at(&revoked, NOW));
    assert_eq!(err, "the PGP key has been revoked");
}
