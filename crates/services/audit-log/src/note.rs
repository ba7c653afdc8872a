//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one line per
//! signature: `— <key name> <base64(4-byte key ID || 64-byte signature)>`.
//! The key ID is the first four bytes of
//! `SHA-256(<key name> || "\n" || 0x01 || <32-byte public key>)`, and the
//! verifier key text is `<name>+<hex key ID>+<base64(0x01 || public key)>`.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use coffer_crypto::{Ed25519Key, Secret, ed25519_verify, sha256};

use crate::error::{AuditLogError, Result};

/// The signature-type byte of Ed25519 keys in signed notes.
const ED25519_ALG: u8 = 0x01;
/// The signature-line prefix: an em dash and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Largest note accepted for verification (C2SP caps notes to keep parsing
/// cheap; checkpoints are a few hundred bytes).
const MAX_NOTE_LEN: usize = 1 << 16;

/// Checks a key name: non-empty, no Unicode whitespace, no `+`.
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(AuditLogError::InvalidName(name.to_owned()));
    }
    Ok(())
}

fn key_id(name: &str, key: &[u8; 32]) -> [u8; 4] {
    let mut buf = Vec::with_capacity(name.len() + 2 + key.len());
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(ED25519_ALG);
    buf.extend_from_slice(key);
    let h = sha256(&buf);
    [h[0], h[1], h[2], h[3]]
}

/// An Ed25519 note verifier key: a name and a public key. Its text form
/// (`Display` / `FromStr`) is the C2SP verifier key string
/// `<name>+<hex key ID>+<base64(0x01 || 32-byte key)>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    name: String,
    id: [u8; 4],
    key: [u8; 32],
}

impl PublicKey {
    /// A verifier key from a name and a raw Ed25519 public key.
    pub fn new(name: &str, key: [u8; 32]) -> Result<Self> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            id: key_id(name, &key),
            key,
        })
    }

    /// The key name (the name signature lines carry).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn key_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// Verifies a signed note and returns its text (everything before the
    /// blank line, including the text's final newline). The note must carry
    /// a valid signature by this key; signatures by other keys are ignored,
    /// as the C2SP specification requires.
    pub fn open<'n>(&self, note: &'n str) -> Result<&'n str> {
        let (text, sigs) = split_note(note)?;
        let mut found = false;
        for line in sigs {
            let sig = parse_signature_line(line)?;
            if sig.name != self.name || sig.id != self.id {
                continue;
            }
            if !ed25519_verify(&self.key, text.as_bytes(), &sig.sig) {
                return Err(AuditLogError::InvalidCheckpoint(format!(
                    "signature by key {} does not verify",
                    self.name
                )));
            }
            found = true;
        }
        if !found {
            return Err(AuditLogError::InvalidCheckpoint(format!(
                "no signature by key {}+{}",
                self.name,
                hex::encode(self.id)
            )));
        }
        Ok(text)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(33);
        raw.push(ED25519_ALG);
        raw.extend_from_slice(&self.key);
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(raw)
        )
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = AuditLogError;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(AuditLogError::InvalidPublicKey(
                "expected <name>+<key id>+<base64 key>",
            ));
        };
        check_name(name).map_err(|_| AuditLogError::InvalidPublicKey("invalid key name"))?;
        if id_hex.len() != 8 {
            return Err(AuditLogError::InvalidPublicKey(
                "key id must be 8 hex digits",
            ));
        }
        let id = hex::decode(id_hex)
            .map_err(|_| AuditLogError::InvalidPublicKey("key id is not hexadecimal"))?;
        let raw = B64
            .decode(key_b64)
            .map_err(|_| AuditLogError::InvalidPublicKey("key is not base64"))?;
        let (Some(&ED25519_ALG), Ok(key)) =
            (raw.first(), <[u8; 32]>::try_from(&raw[1.min(raw.len())..]))
        else {
            return Err(AuditLogError::InvalidPublicKey("not an Ed25519 key"));
        };
        let pk = PublicKey::new(name, key)?;
        if pk.id[..] != id[..] {
            return Err(AuditLogError::InvalidPublicKey(
                "key id does not match the key",
            ));
        }
        Ok(pk)
    }
}

/// An Ed25519 note signer. `Debug` shows only the verifier key.
pub struct NoteSigner {
    public: PublicKey,
    key: Ed25519Key,
}

impl NoteSigner {
    /// Generates a new key; returns the signer and its PKCS#8 encoding for
    /// the caller to store.
    pub fn generate(name: &str) -> Result<(Self, Secret<Vec<u8>>)> {
        check_name(name)?;
        let (key, pkcs8) = Ed25519Key::generate()?;
        Ok((Self::from_key(name, key)?, pkcs8))
    }

    /// A signer from a stored PKCS#8 Ed25519 private key.
    pub fn from_pkcs8(name: &str, pkcs8: &[u8]) -> Result<Self> {
        check_name(name)?;
        Self::from_key(name, Ed25519Key::from_pkcs8(pkcs8)?)
    }

    fn from_key(name: &str, key: Ed25519Key) -> Result<Self> {
        Ok(Self {
            public: PublicKey::new(name, key.public_key())?,
            key,
        })
    }

    /// The verifier key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `text` (which must be non-empty and end in a newline) and
    /// returns the complete note.
    pub fn sign(&self, text: &str) -> Result<String> {
        if text.is_empty() || !text.ends_with('\n') {
            return Err(AuditLogError::InvalidCheckpoint(
                "note text must be non-empty and end with a newline".into(),
            ));
        }
        let sig = self.key.sign(text.as_bytes());
        let mut raw = Vec::with_capacity(4 + sig.len());
        raw.extend_from_slice(&self.public.id);
        raw.extend_from_slice(&sig);
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.public.name,
            B64.encode(raw)
        ))
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Splits a note into its text (with final newline) and signature lines.
fn split_note(note: &str) -> Result<(&str, impl Iterator<Item = &str>)> {
    let bad = |why: &str| AuditLogError::InvalidCheckpoint(format!("malformed note: {why}"));
    if note.len() > MAX_NOTE_LEN {
        return Err(bad("too long"));
    }
    if !note.ends_with('\n') {
        return Err(bad("does not end with a newline"));
    }
    let Some(split) = note.rfind("\n\n") else {
        return Err(bad("no blank line before the signatures"));
    };
    let text = &note[..=split];
    let sigs = &note[split + 2..];
    if sigs.is_empty() {
        return Err(bad("no signatures"));
    }
    Ok((text, sigs.strip_suffix('\n').unwrap_or(sigs).split('\n')))
}

struct SignatureLine<'a> {
    name: &'a str,
    id: [u8; 4],
    sig: Vec<u8>,
}

fn parse_signature_line(line: &str) -> Result<SignatureLine<'_>> {
    let bad = || AuditLogError::InvalidCheckpoint("malformed signature line".into());
    let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(bad)?;
    let (name, b64) = rest.split_once(' ').ok_or_else(bad)?;
    check_name(name).map_err(|_| bad())?;
    let raw = B64.decode(b64).map_err(|_| bad())?;
    if raw.len() < 5 {
        return Err(bad());
    }
    Ok(SignatureLine {
        name,
        id: [raw[0], raw[1], raw[2], raw[3]],
        sig: raw[4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_round_trips_and_is_checked() {
        let (signer, _) = NoteSigner::generate("example.com/log").unwrap();
        let text = signer.public_key().to_string();
        assert!(text.starts_with("example.com/log+"));
        let parsed: PublicKey = text.parse().unwrap();
        assert_eq!(&parsed, signer.public_key());
        // A wrong key id, truncated key or garbage are rejected.
        let mut parts: Vec<&str> = text.split('+').collect();
        parts[1] = "00000000";
        assert!(parts.join("+").parse::<PublicKey>().is_err());
        assert!(text[..text.len() - 4].parse::<PublicKey>().is_err());
        for bad in ["", "a+b", "a+b+c", "a b+00000000+AQ==", "+00000000+AQ=="] {
            assert!(bad.parse::<PublicKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn go_sumdb_verifier_key_parses() {
        // The public key of sum.golang.org, as published by the Go project.
        let k: PublicKey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
            .parse()
            .unwrap();
        assert_eq!(k.name(), "sum.golang.org");
        assert_eq!(hex::encode(k.key_id()), "033de0ae");
    }

    #[test]
    fn sign_and_open() {
        let (signer, pkcs8) = NoteSigner::generate("log").unwrap();
        let note = signer.sign("hello\nworld\n").unwrap();
        assert!(note.starts_with("hello\nworld\n\n\u{2014} log "));
        assert_eq!(signer.public_key().open(&note).unwrap(), "hello\nworld\n");
        let again = NoteSigner::from_pkcs8("log", pkcs8.expose()).unwrap();
        assert_eq!(again.public_key(), signer.public_key());
        // Same key, same text: Ed25519 is deterministic.
        assert_eq!(again.sign("hello\nworld\n").unwrap(), note);

        let tampered = note.replacen("world", "w0rld", 1);
        assert!(signer.public_key().open(&tampered).is_err());
        let (other, _) = NoteSigner::generate("log").unwrap();
        let err = other.public_key().open(&note).unwrap_err().to_string();
        assert!(err.contains("no signature by key log+"), "{err}");
        assert!(signer.sign("no newline").is_err());
        assert!(NoteSigner::generate("bad name").is_err());
        assert!(NoteSigner::from_pkcs8("log", b"junk").is_err());
    }

    #[test]
    fn extra_signatures_by_unknown_keys_are_ignored() {
        let (a, _) = NoteSigner::generate("a").unwrap();
        let (b, _) = NoteSigner::generate("b").unwrap();
        let note = a.sign("text\n").unwrap();
        let b_line = b.sign("text\n").unwrap();
        let b_sig = b_line.split("\n\n").nth(1).unwrap();
        let both = format!("{note}{b_sig}");
        assert_eq!(a.public_key().open(&both).unwrap(), "text\n");
        assert_eq!(b.public_key().open(&both).unwrap(), "text\n");
    }

    #[test]
    fn garbage_notes_never_panic() {
        let (a, _) = NoteSigner::generate("a").unwrap();
        for junk in [
            "",
            "\n",
            "\n\n",
            "text\n\n",
            "text\n\n\u{2014} a\n",
            "text\n\n\u{2014} a !!!\n",
            "text\n\n\u{2014} a AAAA\n",
            "text\n\n- a AAAAAAAA\n",
            "text\n\n\u{2014} a AAAAAAAA",
        ] {
            assert!(a.public_key().open(junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn debug_hides_private_key() {
        let (a, pkcs8) = NoteSigner::generate("a").unwrap();
        let printed = format!("{a:?}");
        assert!(printed.contains("a+"));
        assert!(!printed.contains(&hex::encode(pkcs8.expose())));
    }
}
