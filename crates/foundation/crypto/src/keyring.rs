//! The barrier's keyring: numbered key terms, one of them active.
//!
//! Ciphertext layout: `version(1) || term(u32 BE) || nonce(12) || ciphertext || tag(16)`.
//! The 5-byte header is authenticated together with the caller's aad.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::aead::{AeadKey, NONCE_LEN, TAG_LEN};
use crate::{CryptoError, Secret, random_key};

/// The version byte at the start of every keyring ciphertext.
pub const CIPHERTEXT_VERSION: u8 = 1;
const HEADER_LEN: usize = 5;
/// Version byte of the serialised keyring.
const KEYRING_FORMAT: u8 = 1;
/// term(4) || seconds(8) || nanos(4) || encryptions(8) || key(32)
const ENTRY_LEN: usize = 56;
const KEYRING_HEADER_LEN: usize = 9;

/// The status of a key term, as reported by Vault's `sys/key-status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyStatus {
    /// The term number (1 for the first key).
    pub term: u32,
    /// When the term was installed.
    pub install_time: SystemTime,
    /// How many encryptions this term has performed (persisted when the
    /// keyring is saved, counted in memory in between).
    pub encryptions: u64,
}

struct TermKey {
    key: Secret<[u8; 32]>,
    /// The key schedule of `key`, built once rather than per operation.
    cipher: AeadKey,
    install_time: SystemTime,
    encryptions: AtomicU64,
}

impl TermKey {
    fn new(
        key: Secret<[u8; 32]>,
        install_time: SystemTime,
        encryptions: u64,
    ) -> Result<Self, CryptoError> {
        Ok(Self {
            cipher: AeadKey::new(key.expose())?,
            key,
            install_time,
            encryptions: AtomicU64::new(encryptions),
        })
    }

    fn status(&self, term: u32) -> KeyStatus {
        KeyStatus {
            term,
            install_time: self.install_time,
            encryptions: self.encryptions.load(Ordering::Relaxed),
        }
    }
}

/// The set of barrier keys. The active term encrypts; every term decrypts.
/// Every key is a [`Secret`], so dropping the keyring zeroizes all of them.
/// `Debug` shows only the term numbers.
pub struct Keyring {
    terms: BTreeMap<u32, TermKey>,
    active: u32,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("active_term", &self.active)
            .field("terms", &self.terms.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A copy (for a rotation being prepared). Rebuilding a key schedule
    /// from a valid 32-byte key cannot fail.
    pub fn try_clone(&self) -> Result<Self, CryptoError> {
        let mut terms = BTreeMap::new();
        for (t, k) in &self.terms {
            let entry = TermKey::new(
                k.key.clone(),
                k.install_time,
                k.encryptions.load(Ordering::Relaxed),
            )?;
            terms.insert(*t, entry);
        }
        Ok(Self {
            terms,
            active: self.active,
        })
    }
}

impl Keyring {
    /// A keyring with one random key, term 1, installed at `now`.
    pub fn generate(now: SystemTime) -> Result<Self, CryptoError> {
        let mut terms = BTreeMap::new();
        terms.insert(1, TermKey::new(random_key()?, now, 0)?);
        Ok(Self { terms, active: 1 })
    }

    /// Adds a new random key as term active+1 and makes it active; old terms
    /// stay for decryption.
    pub fn rotate(&mut self, now: SystemTime) -> Result<KeyStatus, CryptoError> {
        let term = self
            .active
            .checked_add(1)
            .ok_or(CryptoError::TermsExhausted)?;
        let entry = TermKey::new(random_key()?, now, 0)?;
        let status = entry.status(term);
        self.terms.insert(term, entry);
        self.active = term;
        Ok(status)
    }

    /// The status of the active term.
    pub fn active_status(&self) -> KeyStatus {
        match self.terms.get(&self.active) {
            Some(k) => k.status(self.active),
            // Unreachable: every constructor and rotate() insert the active
            // term; report an empty status rather than panic.
            None => KeyStatus {
                term: self.active,
                install_time: UNIX_EPOCH,
                encryptions: 0,
            },
        }
    }

    /// The terms this keyring holds, ascending.
    pub fn terms(&self) -> Vec<u32> {
        self.terms.keys().copied().collect()
    }

    fn header_aad(header: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut full = Vec::with_capacity(header.len() + aad.len());
        full.extend_from_slice(header);
        full.extend_from_slice(aad);
        full
    }

    /// Encrypts with the active term.
    /// Layout: `version(1) || term(u32 BE) || nonce(12) || ciphertext || tag(16)`.
    /// `aad` is bound (the barrier passes the storage path).
    pub fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let entry = self
            .terms
            .get(&self.active)
            .ok_or(CryptoError::UnknownTerm(self.active))?;
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.push(CIPHERTEXT_VERSION);
        out.extend_from_slice(&self.active.to_be_bytes());
        let full_aad = Self::header_aad(&out, aad);
        entry.cipher.seal_into(&full_aad, plaintext, &mut out)?;
        entry.encryptions.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// The term a ciphertext was written under, without decrypting it.
    pub fn term_of(ciphertext: &[u8]) -> Result<u32, CryptoError> {
        let (header, _) = Self::parse_header(ciphertext)?;
        Ok(header)
    }

    fn parse_header(ciphertext: &[u8]) -> Result<(u32, &[u8]), CryptoError> {
        let Some((&version, rest)) = ciphertext.split_first() else {
            return Err(CryptoError::Truncated);
        };
        if version != CIPHERTEXT_VERSION {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        let (term, body) = rest
            .split_first_chunk::<4>()
            .ok_or(CryptoError::Truncated)?;
        Ok((u32::from_be_bytes(*term), body))
    }

    /// Decrypts. Fails on an unknown term, bad version, truncation,
    /// tampering or the wrong aad.
    pub fn decrypt(&self, aad: &[u8], ciphertext: &[u8]) -> Result<Secret<Vec<u8>>, CryptoError> {
        let (term, body) = Self::parse_header(ciphertext)?;
        let entry = self
            .terms
            .get(&term)
            .ok_or(CryptoError::UnknownTerm(term))?;
        let header = ciphertext.get(..HEADER_LEN).ok_or(CryptoError::Truncated)?;
        entry.cipher.open(&Self::header_aad(header, aad), body)
    }

    /// Serialises all terms (to be stored encrypted under the root key).
    /// Layout: `format(1) || active(u32) || count(u32)` then per term
    /// `term(u32) || install secs(u64) || nanos(u32) || encryptions(u64) || key(32)`,
    /// all big-endian.
    pub fn to_bytes(&self) -> Secret<Vec<u8>> {
        // Allocated once at its final size so no reallocation leaves key copies behind.
        let mut out = Secret::new(Vec::with_capacity(
            KEYRING_HEADER_LEN + ENTRY_LEN * self.terms.len(),
        ));
        let buf = out.expose_mut();
        buf.push(KEYRING_FORMAT);
        buf.extend_from_slice(&self.active.to_be_bytes());
        let count = u32::try_from(self.terms.len()).unwrap_or(u32::MAX);
        buf.extend_from_slice(&count.to_be_bytes());
        for (term, entry) in self.terms.iter().take(count as usize) {
            let since = entry
                .install_time
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            buf.extend_from_slice(&term.to_be_bytes());
            buf.extend_from_slice(&since.as_secs().to_be_bytes());
            buf.extend_from_slice(&since.subsec_nanos().to_be_bytes());
            buf.extend_from_slice(&entry.encryptions.load(Ordering::Relaxed).to_be_bytes());
            buf.extend_from_slice(entry.key.expose());
        }
        out
    }

    /// Parses [`Keyring::to_bytes`] output.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bad = CryptoError::InvalidKeyring;
        let (&format, rest) = bytes.split_first().ok_or(bad("empty"))?;
        if format != KEYRING_FORMAT {
            return Err(bad("unsupported format version"));
        }
        let (active, rest) = rest.split_first_chunk::<4>().ok_or(bad("truncated"))?;
        let (count, mut rest) = rest.split_first_chunk::<4>().ok_or(bad("truncated"))?;
        let active = u32::from_be_bytes(*active);
        let count = u32::from_be_bytes(*count) as usize;
        if count == 0 || rest.len() != count.saturating_mul(ENTRY_LEN) {
            return Err(bad("length does not match term count"));
        }
        let mut terms = BTreeMap::new();
        while let Some((entry, tail)) = rest.split_first_chunk::<ENTRY_LEN>() {
            rest = tail;
            let (term, e) = entry.split_first_chunk::<4>().ok_or(bad("truncated"))?;
            let (secs, e) = e.split_first_chunk::<8>().ok_or(bad("truncated"))?;
            let (nanos, e) = e.split_first_chunk::<4>().ok_or(bad("truncated"))?;
            let (encryptions, e) = e.split_first_chunk::<8>().ok_or(bad("truncated"))?;
            let key = e.first_chunk::<32>().ok_or(bad("truncated"))?;
            let term = u32::from_be_bytes(*term);
            let nanos = u32::from_be_bytes(*nanos);
            if term == 0 || nanos >= 1_000_000_000 {
                return Err(bad("invalid term entry"));
            }
            let install_time = UNIX_EPOCH
                .checked_add(Duration::new(u64::from_be_bytes(*secs), nanos))
                .ok_or(bad("install time out of range"))?;
            let entry = TermKey::new(
                Secret::new(*key),
                install_time,
                u64::from_be_bytes(*encryptions),
            )?;
            if terms.insert(term, entry).is_some() {
                return Err(bad("duplicate term"));
            }
        }
        if !terms.contains_key(&active) {
            return Err(bad("active term missing"));
        }
        Ok(Self { terms, active })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn round_trip_and_layout() {
        let kr = Keyring::generate(t(100)).unwrap();
        let ct = kr.encrypt(b"path/a", b"hello").unwrap();
        assert_eq!(ct[0], CIPHERTEXT_VERSION);
        assert_eq!(ct[1..5], 1u32.to_be_bytes());
        assert_eq!(ct.len(), HEADER_LEN + NONCE_LEN + 5 + TAG_LEN);
        assert_eq!(Keyring::term_of(&ct).unwrap(), 1);
        assert_eq!(kr.decrypt(b"path/a", &ct).unwrap().expose(), b"hello");
        assert_eq!(kr.active_status().encryptions, 1);
        assert_eq!(kr.active_status().install_time, t(100));
    }

    #[test]
    fn tampering_any_region_fails() {
        let kr = Keyring::generate(t(1)).unwrap();
        let ct = kr.encrypt(b"aad", b"some plaintext").unwrap();
        let regions: [(&str, std::ops::Range<usize>); 5] = [
            ("version", 0..1),
            ("term", 1..5),
            ("nonce", 5..17),
            ("ciphertext", 17..ct.len() - TAG_LEN),
            ("tag", ct.len() - TAG_LEN..ct.len()),
        ];
        for (name, range) in regions {
            for i in range {
                let mut bad = ct.clone();
                bad[i] ^= 0x80;
                assert!(
                    kr.decrypt(b"aad", &bad).is_err(),
                    "{name} byte {i} flip accepted"
                );
            }
        }
        let mut v = ct.clone();
        v[0] = 9;
        assert_eq!(
            kr.decrypt(b"aad", &v).unwrap_err(),
            CryptoError::UnsupportedVersion(9)
        );
        let mut term = ct.clone();
        term[4] ^= 0x01;
        assert_eq!(
            kr.decrypt(b"aad", &term).unwrap_err(),
            CryptoError::UnknownTerm(0)
        );
    }

    #[test]
    fn wrong_aad_unknown_term_and_truncation_fail() {
        let kr = Keyring::generate(t(1)).unwrap();
        let ct = kr.encrypt(b"a/b", b"x").unwrap();
        assert_eq!(kr.decrypt(b"a/c", &ct).unwrap_err(), CryptoError::Decrypt);
        let other = Keyring::generate(t(1)).unwrap();
        assert_eq!(
            other.decrypt(b"a/b", &ct).unwrap_err(),
            CryptoError::Decrypt
        );
        let mut kr2 = Keyring::generate(t(1)).unwrap();
        kr2.rotate(t(2)).unwrap();
        let ct2 = kr2.encrypt(b"a", b"x").unwrap();
        assert_eq!(
            kr.decrypt(b"a", &ct2).unwrap_err(),
            CryptoError::UnknownTerm(2)
        );
        for n in 0..ct.len() {
            assert!(
                kr.decrypt(b"a/b", &ct[..n]).is_err(),
                "truncation to {n} accepted"
            );
        }
        assert_eq!(kr.decrypt(b"a/b", &[]).unwrap_err(), CryptoError::Truncated);
        assert_eq!(
            kr.decrypt(b"a/b", &ct[..3]).unwrap_err(),
            CryptoError::Truncated
        );
    }

    #[test]
    fn rotate_keeps_old_terms() {
        let mut kr = Keyring::generate(t(1)).unwrap();
        let old = kr.encrypt(b"k", b"v1").unwrap();
        let st = kr.rotate(t(50)).unwrap();
        assert_eq!(st.term, 2);
        assert_eq!(st.install_time, t(50));
        assert_eq!(st.encryptions, 0);
        assert_eq!(kr.active_status(), st);
        let new = kr.encrypt(b"k", b"v2").unwrap();
        assert_eq!(Keyring::term_of(&new).unwrap(), 2);
        assert_eq!(kr.decrypt(b"k", &old).unwrap().expose(), b"v1");
        assert_eq!(kr.decrypt(b"k", &new).unwrap().expose(), b"v2");
        assert_eq!(kr.terms(), [1, 2]);
    }

    #[test]
    fn serialisation_round_trip() {
        let mut kr = Keyring::generate(t(10)).unwrap();
        let c1 = kr.encrypt(b"k", b"one").unwrap();
        kr.rotate(UNIX_EPOCH + Duration::new(20, 5)).unwrap();
        let c2 = kr.encrypt(b"k", b"two").unwrap();
        let bytes = kr.to_bytes();
        assert_eq!(bytes.expose().len(), KEYRING_HEADER_LEN + 2 * ENTRY_LEN);
        let back = Keyring::from_bytes(bytes.expose()).unwrap();
        assert_eq!(back.active_status(), kr.active_status());
        assert_eq!(back.decrypt(b"k", &c1).unwrap().expose(), b"one");
        assert_eq!(back.decrypt(b"k", &c2).unwrap().expose(), b"two");
        assert_eq!(back.terms(), [1, 2]);
    }

    #[test]
    fn from_bytes_rejects_garbage() {
        let kr = Keyring::generate(t(10)).unwrap();
        let good = kr.to_bytes().expose().clone();
        for n in 0..good.len() {
            assert!(
                Keyring::from_bytes(&good[..n]).is_err(),
                "prefix {n} accepted"
            );
        }
        let mut extra = good.clone();
        extra.push(0);
        assert!(Keyring::from_bytes(&extra).is_err());
        let mut fmt = good.clone();
        fmt[0] = 2;
        assert!(Keyring::from_bytes(&fmt).is_err());
        let mut active = good.clone();
        active[4] = 2; // active term 2 but only term 1 present
        assert!(Keyring::from_bytes(&active).is_err());
        let mut zero_term = good.clone();
        zero_term[12] = 0;
        assert!(Keyring::from_bytes(&zero_term).is_err());
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let kr = Keyring::generate(t(1)).unwrap();
        let printed = format!("{kr:?}");
        assert!(printed.contains("active_term: 1"));
        let key_hex = hex::encode(kr.terms[&1].key.expose());
        assert!(!printed.contains(&key_hex));
        assert!(!printed.contains(&format!("{:?}", kr.terms[&1].key.expose()[..4].to_vec())));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn prop_round_trip_and_any_bit_flip_fails(
            plaintext in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
            aad in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            bit in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let kr = Keyring::generate(t(1)).unwrap();
            let ct = kr.encrypt(&aad, &plaintext).unwrap();
            let opened = kr.decrypt(&aad, &ct).unwrap();
            proptest::prop_assert_eq!(opened.expose(), &plaintext);
            let bit = bit.index(ct.len() * 8);
            let mut bad = ct.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            proptest::prop_assert!(kr.decrypt(&aad, &bad).is_err());
            let sealed = crate::seal_with_key(&[3u8; 32], &aad, &plaintext).unwrap();
            let opened = crate::open_with_key(&[3u8; 32], &aad, &sealed).unwrap();
            proptest::prop_assert_eq!(opened.expose(), &plaintext);
            let bit2 = bit % (sealed.len() * 8);
            let mut bad2 = sealed.clone();
            bad2[bit2 / 8] ^= 1 << (bit2 % 8);
            proptest::prop_assert!(crate::open_with_key(&[3u8; 32], &aad, &bad2).is_err());
        }
    }

    #[test]
    fn clone_is_equivalent() {
        let kr = Keyring::generate(t(1)).unwrap();
        let c = kr.try_clone().unwrap();
        let ct = kr.encrypt(b"a", b"b").unwrap();
        assert_eq!(c.decrypt(b"a", &ct).unwrap().expose(), b"b");
    }
}
