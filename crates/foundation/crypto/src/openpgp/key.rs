//! Reading a transferable public key (RFC 4880 section 11.1) and choosing
//! the key a message is encrypted to.
//!
//! A subkey is only trusted when the primary key's binding signature over
//! it verifies: otherwise anyone could append their own subkey to a genuine
//! key, and the shares would be encrypted to them while the reported
//! fingerprint (the primary's) still looked right. Signatures are verified
//! for RSA, legacy EdDSA and Ed25519 primary keys with SHA-2 hashes; SHA-1
//! signatures are refused (collisions against OpenPGP keys are practical).

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

use super::packet::{Packet, Reader, malformed, split, tag};
use crate::CryptoError;

/// Public-key algorithm ids (RFC 4880 section 9.1, RFC 9580 section 9.1).
pub(super) mod algo {
    /// RSA (encrypt or sign).
    pub const RSA: u8 = 1;
    /// RSA encrypt-only (deprecated).
    pub const RSA_ENCRYPT: u8 = 2;
    /// RSA sign-only (deprecated).
    pub const RSA_SIGN: u8 = 3;
    /// Elgamal (encrypt-only).
    pub const ELGAMAL: u8 = 16;
    /// ECDH (RFC 6637).
    pub const ECDH: u8 = 18;
    /// EdDSA in the legacy (pre-RFC 9580) encoding.
    pub const EDDSA_LEGACY: u8 = 22;
    /// X25519 (RFC 9580).
    pub const X25519: u8 = 25;
    /// X448 (RFC 9580).
    pub const X448: u8 = 26;
    /// Ed25519 (RFC 9580).
    pub const ED25519: u8 = 27;
}

/// The OID of Curve25519 for ECDH (legacy "cv25519"), 1.3.6.1.4.1.3029.1.5.1.
pub(super) const OID_CV25519: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01];
/// The OID of Ed25519 for legacy EdDSA, 1.3.6.1.4.1.11591.15.1.
const OID_ED25519: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01];

/// The largest key accepted, in bytes: far more than any key with its own
/// signatures needs, and a bound on the signature checks an
/// unauthenticated request (`sys/init`, `sys/generate-root/attempt`) can
/// cause.
const MAX_KEY_LEN: usize = 1 << 20;

/// Key flags (RFC 4880 section 5.2.3.21) that allow encryption.
const FLAGS_ENCRYPT: u8 = 0x04 | 0x08;

/// Signature types (RFC 4880 section 5.2.1).
mod sig_type {
    pub const CERT_FIRST: u8 = 0x10;
    pub const CERT_LAST: u8 = 0x13;
    pub const SUBKEY_BINDING: u8 = 0x18;
    pub const DIRECT_KEY: u8 = 0x1f;
    pub const KEY_REVOCATION: u8 = 0x20;
    pub const SUBKEY_REVOCATION: u8 = 0x28;
}

/// The KEK a Curve25519 ECDH key asks for (its KDF parameters, RFC 6637
/// section 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct KdfParams {
    /// The KDF's hash algorithm id (8, 9 or 10).
    pub hash_id: u8,
    /// The key-wrap algorithm id (7 for AES-128, 9 for AES-256).
    pub kek_id: u8,
}

impl KdfParams {
    /// The KDF's hash.
    pub fn hash(&self) -> &'static digest::Algorithm {
        match self.hash_id {
            8 => &digest::SHA256,
            9 => &digest::SHA384,
            _ => &digest::SHA512,
        }
    }

    /// The KEK's length in bytes.
    pub fn kek_len(&self) -> usize {
        if self.kek_id == 7 { 16 } else { 32 }
    }
}

/// What a key packet's algorithm-specific fields hold, as far as this module
/// uses them.
#[derive(Clone, Debug)]
pub(super) enum Material {
    /// RSA: modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// ECDH over Curve25519: the native 32-byte public key and the KDF.
    Cv25519 { point: [u8; 32], kdf: KdfParams },
    /// EdDSA over Ed25519, either encoding: the 32-byte public key.
    Ed25519 { point: [u8; 32] },
    /// Anything else, with why it cannot be used.
    Unsupported(String),
}

/// One parsed key packet (primary or subkey).
#[derive(Clone, Debug)]
pub(super) struct KeyPacket<'a> {
    body: &'a [u8],
    pub created: u32,
    pub algorithm: u8,
    pub material: Material,
    pub fingerprint: [u8; 20],
}

fn unsupported_algorithm(id: u8) -> Material {
    Material::Unsupported(format!("unsupported OpenPGP public key algorithm {id}"))
}

/// Reads a curve OID field (one length byte, then the OID).
fn oid<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], CryptoError> {
    let len = usize::from(r.u8()?);
    if len == 0 || len == 0xff {
        return Err(malformed("reserved curve OID length"));
    }
    r.take(len)
}

/// A native 32-byte point from a prefixed (0x40) MPI.
fn prefixed_point(mpi: &[u8]) -> Result<[u8; 32], CryptoError> {
    match mpi.split_first() {
        Some((0x40, rest)) if rest.len() == 32 => {
            let mut point = [0u8; 32];
            point.copy_from_slice(rest);
            Ok(point)
        }
        _ => Err(malformed("a Curve25519 point must be 0x40 and 32 bytes")),
    }
}

fn dotted_oid(oid: &[u8]) -> String {
    let mut parts = Vec::new();
    if let Some((&first, rest)) = oid.split_first() {
        parts.push(u64::from(first / 40));
        parts.push(u64::from(first % 40));
        let mut value = 0u64;
        for &b in rest {
            value = (value << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                parts.push(value);
                value = 0;
            }
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Parses a version 4 key packet body.
pub(super) fn parse_key(body: &[u8]) -> Result<KeyPacket<'_>, CryptoError> {
    let mut r = Reader::new(body);
    let version = r.u8()?;
    if version != 4 {
        return Err(CryptoError::PgpKey(format!(
            "unsupported OpenPGP key version {version}"
        )));
    }
    let created = r.u32()?;
    let algorithm = r.u8()?;
    let material = match algorithm {
        algo::RSA | algo::RSA_ENCRYPT | algo::RSA_SIGN => {
            let n = r.mpi()?.to_vec();
            let e = r.mpi()?.to_vec();
            if n.is_empty() || e.is_empty() {
                return Err(malformed("empty RSA parameter"));
            }
            Material::Rsa { n, e }
        }
        algo::ECDH => {
            let curve = oid(&mut r)?;
            let point = r.mpi()?;
            let kdf_len = usize::from(r.u8()?);
            let kdf = r.take(kdf_len)?;
            if curve != OID_CV25519 {
                Material::Unsupported(format!(
                    "unsupported OpenPGP ECDH curve {}",
                    dotted_oid(curve)
                ))
            } else {
                let point = prefixed_point(point)?;
                match *kdf {
                    [1, hash_id @ 8..=10, kek_id @ (7 | 9)] => Material::Cv25519 {
                        point,
                        kdf: KdfParams { hash_id, kek_id },
                    },
                    [1, hash_id, kek_id] => Material::Unsupported(format!(
                        "unsupported ECDH KDF parameters (hash {hash_id}, key wrap {kek_id})"
                    )),
                    _ => return Err(malformed("ECDH KDF parameters")),
                }
            }
        }
        algo::EDDSA_LEGACY => {
            let curve = oid(&mut r)?;
            let point = r.mpi()?;
            if curve == OID_ED25519 {
                Material::Ed25519 {
                    point: prefixed_point(point)?,
                }
            } else {
                Material::Unsupported(format!(
                    "unsupported OpenPGP EdDSA curve {}",
                    dotted_oid(curve)
                ))
            }
        }
        algo::ED25519 => {
            let mut point = [0u8; 32];
            point.copy_from_slice(r.take(32)?);
            Material::Ed25519 { point }
        }
        other => unsupported_algorithm(other),
    };
    let len = u16::try_from(body.len()).map_err(|_| malformed("key packet too long"))?;
    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&[0x99]);
    ctx.update(&len.to_be_bytes());
    ctx.update(body);
    let mut fingerprint = [0u8; 20];
    fingerprint.copy_from_slice(ctx.finish().as_ref());
    Ok(KeyPacket {
        body,
        created,
        algorithm,
        material,
        fingerprint,
    })
}

impl KeyPacket<'_> {
    /// The key's 8-byte key ID (the low bytes of its fingerprint).
    pub fn key_id(&self) -> [u8; 8] {
        let mut id = [0u8; 8];
        id.copy_from_slice(&self.fingerprint[12..]);
        id
    }

    /// `0x99 || length || body`, the form a key takes in signed data.
    fn hash_into(&self, out: &mut Vec<u8>) {
        out.push(0x99);
        // Checked in `parse_key`.
        out.extend_from_slice(&(self.body.len() as u16).to_be_bytes());
        out.extend_from_slice(self.body);
    }

    /// Whether the algorithm can encrypt at all (used when a key has no
    /// key flags).
    fn algorithm_can_encrypt(&self) -> bool {
        matches!(
            self.algorithm,
            algo::RSA | algo::RSA_ENCRYPT | algo::ELGAMAL | algo::ECDH | algo::X25519 | algo::X448
        )
    }
}

/// A version 4 signature, as far as key selection needs it.
struct Signature<'a> {
    sig_type: u8,
    pk_algorithm: u8,
    hash_algorithm: u8,
    /// Version through the end of the hashed subpackets: what is hashed.
    hashed_part: &'a [u8],
    left16: [u8; 2],
    value: &'a [u8],
    created: u32,
    key_flags: Option<u8>,
    key_expiry: Option<u32>,
    /// The key ID the signature names as its issuer, if any.
    issuer: Option<[u8; 8]>,
}

/// Parses a signature packet; `None` for versions other than 4 (ignored).
fn parse_signature(body: &[u8]) -> Result<Option<Signature<'_>>, CryptoError> {
    let mut r = Reader::new(body);
    if r.u8()? != 4 {
        return Ok(None);
    }
    let sig_type = r.u8()?;
    let pk_algorithm = r.u8()?;
    let hash_algorithm = r.u8()?;
    let hashed_len = usize::from(r.u16()?);
    let hashed = r.take(hashed_len)?;
    let hashed_part = &body[..6 + hashed_len];
    let unhashed_len = usize::from(r.u16()?);
    let unhashed = r.take(unhashed_len)?;
    let left = r.take(2)?;
    let mut sig = Signature {
        sig_type,
        pk_algorithm,
        hash_algorithm,
        hashed_part,
        left16: [left[0], left[1]],
        value: r.rest(),
        created: 0,
        key_flags: None,
        key_expiry: None,
        issuer: None,
    };
    // Only hashed subpackets are believed; the unhashed area (not signed)
    // is read for the issuer alone, which only decides what to skip.
    for (area, hashed_area) in [(hashed, true), (unhashed, false)] {
        let mut sub = Reader::new(area);
        while !sub.is_empty() {
            let first = sub.u8()?;
            let len = match first {
                0..=191 => usize::from(first),
                192..=254 => ((usize::from(first) - 192) << 8) + usize::from(sub.u8()?) + 192,
                255 => sub.u32()? as usize,
            };
            let data = sub.take(len)?;
            let Some((&kind, payload)) = data.split_first() else {
                return Err(malformed("empty signature subpacket"));
            };
            let be32 = |p: &[u8]| -> Result<u32, CryptoError> {
                p.try_into()
                    .map(u32::from_be_bytes)
                    .map_err(|_| malformed("signature subpacket length"))
            };
            match (kind & 0x7f, hashed_area) {
                (2, true) => sig.created = be32(payload)?,
                (9, true) => sig.key_expiry = Some(be32(payload)?),
                (27, true) => sig.key_flags = Some(payload.first().copied().unwrap_or(0)),
                (16, _) if payload.len() == 8 => {
                    sig.issuer.get_or_insert_with(|| {
                        let mut id = [0u8; 8];
                        id.copy_from_slice(payload);
                        id
                    });
                }
                // Issuer fingerprint: version 4, then 20 bytes.
                (33, _) if payload.len() == 21 && payload[0] == 4 => {
                    sig.issuer.get_or_insert_with(|| {
                        let mut id = [0u8; 8];
                        id.copy_from_slice(&payload[13..]);
                        id
                    });
                }
                _ => {}
            }
        }
    }
    Ok(Some(sig))
}

impl Signature<'_> {
    /// Whether the signature names another key as its issuer (a third-party
    /// certification): never verified against the primary key, which keeps
    /// the work on keys with many certifications small.
    fn issued_by_another_key(&self, primary: &KeyPacket<'_>) -> bool {
        self.issuer.is_some_and(|id| id != primary.key_id())
    }
}

/// Checks `sig`, made by `signer`, over `signed` (the key, user ID or
/// subkey material of RFC 4880 section 5.2.4). `Err` says why it does not
/// count.
fn verify(signer: &KeyPacket<'_>, sig: &Signature<'_>, mut signed: Vec<u8>) -> Result<(), String> {
    let (digest_alg, rsa_params): (
        &'static digest::Algorithm,
        &'static signature::RsaParameters,
    ) = match sig.hash_algorithm {
        8 => (&digest::SHA256, &signature::RSA_PKCS1_2048_8192_SHA256),
        9 => (&digest::SHA384, &signature::RSA_PKCS1_2048_8192_SHA384),
        10 => (&digest::SHA512, &signature::RSA_PKCS1_2048_8192_SHA512),
        2 => return Err("its signature uses SHA-1, which is no longer accepted".into()),
        other => {
            return Err(format!(
                "its signature uses unsupported hash algorithm {other}"
            ));
        }
    };
    signed.extend_from_slice(sig.hashed_part);
    signed.extend_from_slice(&[0x04, 0xff]);
    signed.extend_from_slice(&(sig.hashed_part.len() as u32).to_be_bytes());
    let hash = digest::digest(digest_alg, &signed);
    if hash.as_ref()[..2] != sig.left16 {
        return Err("its signature does not verify".into());
    }
    let bad = || "its signature does not verify".to_owned();
    let mut value = Reader::new(sig.value);
    match (&signer.material, sig.pk_algorithm) {
        (Material::Rsa { n, e }, algo::RSA | algo::RSA_SIGN) => {
            if n.len() < 256 {
                return Err("RSA keys shorter than 2048 bits are not supported".into());
            }
            let s = value.mpi().map_err(|_| bad())?;
            if s.len() > n.len() {
                return Err(bad());
            }
            let mut padded = vec![0u8; n.len() - s.len()];
            padded.extend_from_slice(s);
            RsaPublicKeyComponents {
                n: &n[..],
                e: &e[..],
            }
            .verify(rsa_params, &signed, &padded)
            .map_err(|_| bad())
        }
        (Material::Ed25519 { point }, algo::EDDSA_LEGACY | algo::ED25519) => {
            let mut rs = [0u8; 64];
            if sig.pk_algorithm == algo::ED25519 {
                rs.copy_from_slice(value.take(64).map_err(|_| bad())?);
            } else {
                for half in rs.chunks_mut(32) {
                    let v = value.mpi().map_err(|_| bad())?;
                    if v.len() > 32 {
                        return Err(bad());
                    }
                    half[32 - v.len()..].copy_from_slice(v);
                }
            }
            UnparsedPublicKey::new(&signature::ED25519, point)
                .verify(hash.as_ref(), &rs)
                .map_err(|_| bad())
        }
        (_, alg) => Err(format!(
            "its signature uses unsupported OpenPGP public key algorithm {alg}"
        )),
    }
}

/// The key chosen to encrypt to, with the fingerprint of its primary key.
#[derive(Clone, Debug)]
pub(super) struct Selected {
    /// The primary key's fingerprint (what Vault reports).
    pub primary_fingerprint: [u8; 20],
    /// The encryption key's fingerprint (used in the ECDH KDF).
    pub fingerprint: [u8; 20],
    /// The encryption key's key ID (named in the PKESK packet).
    pub key_id: [u8; 8],
    /// The encryption key's public-key algorithm id.
    pub algorithm: u8,
    /// The encryption key's material: RSA or Curve25519.
    pub material: Material,
}

/// A subkey and the signatures that follow it.
struct Subkey<'a> {
    key: Result<KeyPacket<'a>, CryptoError>,
    signatures: Vec<&'a [u8]>,
}

/// What a primary key's signatures are over.
#[derive(Clone, Copy)]
enum Signed<'a> {
    Key,
    UserId(&'a [u8]),
    UserAttribute(&'a [u8]),
}

/// Reads a binary transferable public key and picks the key to encrypt to,
/// as of `now` (seconds since the Unix epoch).
pub(super) fn select(binary: &[u8], now: u64) -> Result<Selected, CryptoError> {
    if binary.len() > MAX_KEY_LEN {
        return Err(CryptoError::PgpKey(format!(
            "the PGP key is larger than {} KiB; export it without third-party signatures \
             (gpg --export-options export-minimal --export)",
            MAX_KEY_LEN / 1024
        )));
    }
    let packets = split(binary)?;
    let mut iter = packets.iter();
    let primary = match iter.next() {
        Some(Packet {
            tag: tag::PUBLIC_KEY,
            body,
        }) => parse_key(body)?,
        Some(Packet {
            tag: tag::SECRET_KEY,
            ..
        }) => return Err(secret_key_given()),
        Some(_) => {
            return Err(malformed(
                "a public key must start with a public key packet",
            ));
        }
        None => return Err(malformed("no packets")),
    };
    let mut primary_sigs: Vec<(&[u8], Signed<'_>)> = Vec::new();
    let mut subkeys: Vec<Subkey<'_>> = Vec::new();
    // Where the next signature belongs: the primary key or its latest user
    // ID or attribute, or (once subkeys start) the latest subkey.
    let mut current = Signed::Key;
    let mut in_subkey = false;
    for p in iter {
        match p.tag {
            tag::SIGNATURE => {
                if in_subkey {
                    if let Some(last) = subkeys.last_mut() {
                        last.signatures.push(p.body);
                    }
                } else {
                    primary_sigs.push((p.body, current));
                }
            }
            tag::USER_ID => {
                in_subkey = false;
                current = Signed::UserId(p.body);
            }
            tag::USER_ATTRIBUTE => {
                in_subkey = false;
                current = Signed::UserAttribute(p.body);
            }
            tag::PUBLIC_SUBKEY => {
                in_subkey = true;
                subkeys.push(Subkey {
                    key: parse_key(p.body),
                    signatures: Vec::new(),
                });
            }
            tag::PUBLIC_KEY => {
                return Err(CryptoError::PgpKey(
                    "the PGP key data holds more than one key; give exactly one".into(),
                ));
            }
            tag::SECRET_KEY | tag::SECRET_SUBKEY => return Err(secret_key_given()),
            // Trust, marker and unknown packets carry nothing needed here.
            _ => {}
        }
    }

    // The primary key: its newest verified self-signature gives its flags
    // and expiry; a verified revocation refuses the whole key.
    let mut self_sig: Option<Signature<'_>> = None;
    for (body, over) in &primary_sigs {
        let Some(sig) = parse_signature(body)? else {
            continue;
        };
        if sig.issued_by_another_key(&primary) {
            continue;
        }
        let mut signed = Vec::new();
        primary.hash_into(&mut signed);
        match (sig.sig_type, over) {
            (sig_type::KEY_REVOCATION, Signed::Key) => {
                if verify(&primary, &sig, signed).is_ok() {
                    return Err(CryptoError::PgpKey("the PGP key has been revoked".into()));
                }
                continue;
            }
            (sig_type::DIRECT_KEY, Signed::Key) => {}
            (sig_type::CERT_FIRST..=sig_type::CERT_LAST, Signed::UserId(uid)) => {
                signed.push(0xb4);
                signed.extend_from_slice(&(uid.len() as u32).to_be_bytes());
                signed.extend_from_slice(uid);
            }
            (sig_type::CERT_FIRST..=sig_type::CERT_LAST, Signed::UserAttribute(attr)) => {
                signed.push(0xd1);
                signed.extend_from_slice(&(attr.len() as u32).to_be_bytes());
                signed.extend_from_slice(attr);
            }
            _ => continue,
        }
        if verify(&primary, &sig, signed).is_ok()
            && self_sig.as_ref().is_none_or(|s| sig.created >= s.created)
        {
            self_sig = Some(sig);
        }
    }
    if let Some(expiry) = self_sig.as_ref().and_then(|s| s.key_expiry)
        && expired(primary.created, expiry, now)
    {
        return Err(CryptoError::PgpKey("the PGP key has expired".into()));
    }

    // Subkeys: usable when bound by a verified signature, not revoked, not
    // expired, allowed to encrypt and of an algorithm implemented here.
    let mut best: Option<KeyPacket<'_>> = None;
    let mut rejected: Option<String> = None;
    for sub in &subkeys {
        let key = match &sub.key {
            Ok(k) => k,
            Err(e) => {
                rejected.get_or_insert_with(|| format!("a subkey cannot be used: {e}"));
                continue;
            }
        };
        let hex_id = hex::encode_upper(key.key_id());
        let mut binding: Option<Signature<'_>> = None;
        let mut revoked = false;
        let mut why_unbound = None;
        for body in &sub.signatures {
            let Some(sig) = parse_signature(body)? else {
                continue;
            };
            if !matches!(
                sig.sig_type,
                sig_type::SUBKEY_BINDING | sig_type::SUBKEY_REVOCATION
            ) || sig.issued_by_another_key(&primary)
            {
                continue;
            }
            let mut signed = Vec::new();
            primary.hash_into(&mut signed);
            key.hash_into(&mut signed);
            match verify(&primary, &sig, signed) {
                Ok(()) if sig.sig_type == sig_type::SUBKEY_REVOCATION => revoked = true,
                Ok(()) => {
                    if binding.as_ref().is_none_or(|b| sig.created >= b.created) {
                        binding = Some(sig);
                    }
                }
                Err(why) => {
                    why_unbound.get_or_insert(why);
                }
            }
        }
        let Some(binding) = binding else {
            // An unbound subkey is ignored, but if it claims to encrypt the
            // reason is kept for the error.
            if key.algorithm_can_encrypt() {
                rejected.get_or_insert_with(|| {
                    format!(
                        "subkey {hex_id} is not bound to the primary key: {}",
                        why_unbound.unwrap_or_else(|| "it has no binding signature".into())
                    )
                });
            }
            continue;
        };
        let can_encrypt = match binding.key_flags {
            Some(flags) => flags & FLAGS_ENCRYPT != 0,
            None => key.algorithm_can_encrypt(),
        };
        if !can_encrypt {
            continue;
        }
        if revoked {
            rejected.get_or_insert_with(|| format!("subkey {hex_id} has been revoked"));
            continue;
        }
        if binding
            .key_expiry
            .is_some_and(|expiry| expired(key.created, expiry, now))
        {
            rejected.get_or_insert_with(|| format!("subkey {hex_id} has expired"));
            continue;
        }
        if let Material::Unsupported(why) = &key.material {
            rejected.get_or_insert_with(|| format!("subkey {hex_id}: {why}"));
            continue;
        }
        if best.as_ref().is_none_or(|b| key.created >= b.created) {
            best = Some(key.clone());
        }
    }

    let chosen = match best {
        Some(key) => key,
        None => {
            // The primary key itself, when its flags allow encryption (or it
            // has no verified flags, no subkeys, and an algorithm that can).
            let primary_can = match self_sig.as_ref().and_then(|s| s.key_flags) {
                Some(flags) => flags & FLAGS_ENCRYPT != 0,
                None => subkeys.is_empty() && primary.algorithm_can_encrypt(),
            };
            if !primary_can {
                return Err(CryptoError::PgpKey(match rejected {
                    Some(why) => format!("the PGP key has no usable encryption key: {why}"),
                    None => {
                        "the PGP key has no encryption key (it can only sign or certify)".into()
                    }
                }));
            }
            if let Material::Unsupported(why) = &primary.material {
                return Err(CryptoError::PgpKey(why.clone()));
            }
            primary.clone()
        }
    };
    if let Material::Ed25519 { .. } = chosen.material {
        return Err(CryptoError::PgpKey(
            "the PGP key's encryption key is a signing-only Ed25519 key".into(),
        ));
    }
    if let Material::Rsa { n, .. } = &chosen.material
        && n.len() < 256
    {
        return Err(CryptoError::PgpKey(
            "RSA keys shorter than 2048 bits are not supported".into(),
        ));
    }
    Ok(Selected {
        primary_fingerprint: primary.fingerprint,
        fingerprint: chosen.fingerprint,
        key_id: chosen.key_id(),
        algorithm: chosen.algorithm,
        material: chosen.material,
    })
}

fn secret_key_given() -> CryptoError {
    CryptoError::PgpKey("a secret key was given; give the public key".into())
}

/// Whether a key created at `created` with an expiry of `expiry` seconds
/// after creation (0: never) has expired at `now`.
fn expired(created: u32, expiry: u32, now: u64) -> bool {
    expiry != 0 && u64::from(created) + u64::from(expiry) <= now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_print_dotted() {
        assert_eq!(dotted_oid(OID_CV25519), "1.3.6.1.4.1.3029.1.5.1");
        assert_eq!(dotted_oid(OID_ED25519), "1.3.6.1.4.1.11591.15.1");
        assert_eq!(
            dotted_oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
            "1.2.840.10045.3.1.7"
        );
    }

    #[test]
    fn gnupg_signatures_name_their_issuer_and_flags() {
        let binary = super::super::armor::decode(include_str!("testdata/cv25519.asc")).unwrap();
        let packets = split(&binary).unwrap();
        let primary = parse_key(packets[0].body).unwrap();
        let sigs: Vec<Signature<'_>> = packets
            .iter()
            .filter(|p| p.tag == tag::SIGNATURE)
            .map(|p| parse_signature(p.body).unwrap().unwrap())
            .collect();
        // The user ID self-signature (0x13, flags SC) and the subkey
        // binding (0x18, flags E), both issued by the primary key.
        assert_eq!(
            sigs.iter()
                .map(|s| (s.sig_type, s.key_flags, s.hash_algorithm))
                .collect::<Vec<_>>(),
            [(0x13, Some(0x03), 8), (0x18, Some(0x0c), 8)]
        );
        assert!(sigs.iter().all(|s| s.issuer == Some(primary.key_id())));
        assert!(sigs.iter().all(|s| !s.issued_by_another_key(&primary)));
        assert_eq!(hex::encode_upper(primary.key_id()), "C78519EECA10020A");
    }

    #[test]
    fn oversized_keys_are_refused_before_parsing() {
        let err = select(&vec![0u8; MAX_KEY_LEN + 1], 0).unwrap_err();
        assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");
    }

    #[test]
    fn expiry_counts_from_creation() {
        assert!(!expired(100, 0, u64::MAX));
        assert!(!expired(100, 50, 149));
        assert!(expired(100, 50, 150));
    }
}
