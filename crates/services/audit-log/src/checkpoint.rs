//! Signed tree heads in the C2SP tlog-checkpoint format
//! (<https://c2sp.org/tlog-checkpoint>): a signed note whose text is
//! `<origin>\n<tree size>\n<base64 root hash>\n`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use coffer_crypto::Secret;
use serde::{Deserialize, Serialize};

use crate::error::{AuditLogError, Result};
use crate::merkle::Hash;
use crate::note::{NoteSigner, PublicKey};

/// The default checkpoint origin for the audit device mounted at `path`:
/// `coffer.audit/<path>` (trailing slashes removed).
pub fn default_origin(device_path: &str) -> String {
    format!("coffer.audit/{}", device_path.trim_matches('/'))
}

/// A signed checkpoint: tree size and root hash, plus the full signed note.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The log's origin line (identifies the log).
    pub origin: String,
    /// Number of leaves (records) the checkpoint covers.
    pub size: u64,
    /// RFC 9162 root hash of the first `size` records.
    #[serde(with = "crate::serde_hash")]
    pub root: Hash,
    /// The complete C2SP signed note text.
    pub note: String,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("origin", &self.origin)
            .field("size", &self.size)
            .field("root", &B64.encode(self.root))
            .finish_non_exhaustive()
    }
}

impl Checkpoint {
    /// Verifies `note`'s signature with `key` and parses its checkpoint body.
    pub fn open(note: &str, key: &PublicKey) -> Result<Self> {
        let text = key.open(note)?;
        Self::parse_body(text, note)
    }

    /// Parses a checkpoint note WITHOUT verifying any signature (for tools
    /// that only need its size and root; always [`Checkpoint::open`] before
    /// trusting it).
    pub fn parse_unverified(note: &str) -> Result<Self> {
        let text = note
            .rfind("\n\n")
            .map(|i| &note[..=i])
            .ok_or_else(|| AuditLogError::InvalidCheckpoint("malformed note".into()))?;
        Self::parse_body(text, note)
    }

    fn parse_body(text: &str, note: &str) -> Result<Self> {
        let bad = |why: &str| AuditLogError::InvalidCheckpoint(why.to_owned());
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad("checkpoint body needs origin, size and root lines"));
        };
        if origin.is_empty() {
            return Err(bad("empty origin"));
        }
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        let size: u64 = size
            .parse()
            .ok()
            .filter(|_| size_ok)
            .ok_or_else(|| bad("tree size is not a decimal number"))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("root hash is not 32 base64-encoded bytes"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            note: note.to_owned(),
        })
    }

    /// The checkpoint body for `origin`, `size` and `root`.
    pub fn body(origin: &str, size: u64, root: &Hash) -> String {
        format!("{origin}\n{size}\n{}\n", B64.encode(root))
    }
}

/// The Ed25519 key that signs a log's checkpoints. The PKCS#8 private key
/// is kept (encrypted, in the barrier) by the caller. `Debug` shows only the
/// public key.
#[derive(Debug)]
pub struct CheckpointSigner {
    signer: NoteSigner,
}

impl CheckpointSigner {
    /// Generates a fresh signing key named `name`; returns the signer and
    /// the PKCS#8 private key to persist.
    pub fn generate(name: &str) -> Result<(Self, Secret<Vec<u8>>)> {
        let (signer, pkcs8) = NoteSigner::generate(name)?;
        Ok((Self { signer }, pkcs8))
    }

    /// Loads a signer from a persisted PKCS#8 private key.
    pub fn from_pkcs8(name: &str, pkcs8: &[u8]) -> Result<Self> {
        Ok(Self {
            signer: NoteSigner::from_pkcs8(name, pkcs8)?,
        })
    }

    /// The verifier key (`<name>+<key id>+<base64 key>` in text form).
    pub fn public_key(&self) -> PublicKey {
        self.signer.public_key().clone()
    }

    /// Signs a checkpoint for the tree of `size` leaves with root `root`.
    pub fn sign(&self, origin: &str, size: u64, root: &Hash) -> Result<Checkpoint> {
        if origin.is_empty() || origin.contains('\n') {
            return Err(AuditLogError::InvalidCheckpoint(
                "origin must be a non-empty single line".into(),
            ));
        }
        let note = self.signer.sign(&Checkpoint::body(origin, size, root))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root: *root,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_c2sp_body_and_opens() {
        let (signer, _) = CheckpointSigner::generate("coffer.audit/file").unwrap();
        let root = crate::merkle::empty_root();
        let cp = signer.sign("coffer.audit/file", 0, &root).unwrap();
        let want_body = "coffer.audit/file\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n";
        assert!(cp.note.starts_with(want_body), "{}", cp.note);
        assert!(cp.note.contains("\n\u{2014} coffer.audit/file "));
        let opened = Checkpoint::open(&cp.note, &signer.public_key()).unwrap();
        assert_eq!(opened, cp);
        assert_eq!(Checkpoint::parse_unverified(&cp.note).unwrap(), cp);

        let (other, _) = CheckpointSigner::generate("coffer.audit/file").unwrap();
        assert!(Checkpoint::open(&cp.note, &other.public_key()).is_err());
        let forged = other.sign("coffer.audit/file", 5, &root).unwrap();
        assert!(Checkpoint::open(&forged.note, &signer.public_key()).is_err());
    }

    #[test]
    fn rejects_bad_bodies() {
        let (signer, pkcs8) = CheckpointSigner::generate("k").unwrap();
        let inner = NoteSigner::from_pkcs8("k", pkcs8.expose()).unwrap();
        let key = signer.public_key();
        for body in [
            "o\n01\nAAAA\n",
            "o\n1\nAAAA\n",
            "o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
            "\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
            "o\n1\n",
        ] {
            let note = inner.sign(body).unwrap();
            assert!(Checkpoint::open(&note, &key).is_err(), "{body:?}");
        }
        // Extension lines after the root are allowed by the format.
        let note = inner
            .sign("o\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n")
            .unwrap();
        assert_eq!(Checkpoint::open(&note, &key).unwrap().size, 7);
        assert!(signer.sign("two\nlines", 1, &[0; 32]).is_err());
    }

    #[test]
    fn default_origin_names_the_device() {
        assert_eq!(default_origin("file/"), "coffer.audit/file");
        assert_eq!(default_origin("team/audit"), "coffer.audit/team/audit");
    }
}
