//! OpenPGP encryption to a public key, for Vault's `pgp_keys`,
//! `root_token_pgp_key` (`sys/init`, `sys/rekey/init`) and `pgp_key`
//! (`sys/generate-root/attempt`): unseal key shares and root tokens handed
//! out encrypted, so only the holder of each private key can read theirs.
//!
//! Only what those endpoints need is implemented, on aws-lc-rs like every
//! other primitive in this crate (no second crypto provider, no pure-Rust
//! RSA): parsing a transferable public key (binary, given base64-encoded as
//! Vault takes it, or ASCII-armored), choosing its encryption key (a subkey
//! bound by a verified signature of the primary key, or the primary key),
//! its v4 fingerprint, and writing a message readable by GnuPG and Vault's
//! Go library: RSA (PKCS#1 v1.5) or ECDH over Curve25519 (RFC 6637) for the
//! session key, AES-256 with the modification detection code for the data.
//! Decryption, signing and the other algorithms are out of scope.

mod armor;
mod key;
mod message;
mod packet;
#[cfg(test)]
mod tests;

use base64::Engine as _;

use crate::CryptoError;

/// A parsed OpenPGP public key with a usable encryption key. `Debug` shows
/// the fingerprint (nothing here is secret).
#[derive(Clone)]
pub struct PublicKey {
    selected: key::Selected,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl PublicKey {
    /// Parses a key as Vault's API takes it: the base64 encoding of the
    /// binary key (`gpg --export KEY | base64`), or, as a convenience, the
    /// ASCII-armored export (`gpg --armor --export KEY`). Fails with
    /// [`CryptoError::PgpKeyEncoding`] when the base64 is invalid and
    /// [`CryptoError::PgpKey`] when the key cannot be used (malformed, a
    /// secret key, several keys, no valid encryption key, expired, revoked,
    /// or an algorithm this build does not implement).
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        Self::parse_at(text, now())
    }

    /// [`PublicKey::parse`] as of `now` (seconds since the Unix epoch), for
    /// expiry checks.
    pub(crate) fn parse_at(text: &str, now: u64) -> Result<Self, CryptoError> {
        let binary = if armor::is_armored(text) {
            armor::decode(text)?
        } else {
            decode_base64(text)?
        };
        Self::from_binary_at(&binary, now)
    }

    /// Parses a binary transferable public key (`gpg --export KEY`).
    pub fn from_binary(binary: &[u8]) -> Result<Self, CryptoError> {
        Self::from_binary_at(binary, now())
    }

    fn from_binary_at(binary: &[u8], now: u64) -> Result<Self, CryptoError> {
        Ok(Self {
            selected: key::select(binary, now)?,
        })
    }

    /// The primary key's v4 fingerprint (RFC 4880 section 12.2), 40
    /// lower-case hex digits, as Vault reports it.
    pub fn fingerprint(&self) -> String {
        hex::encode(self.selected.primary_fingerprint)
    }

    /// Encrypts `plaintext` to the key's encryption key: a binary OpenPGP
    /// message (`gpg --decrypt` reads it).
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        message::encrypt(&self.selected, plaintext)
    }
}

/// Whether `text` is ASCII armor (`-----BEGIN PGP ...`) rather than base64
/// or binary.
pub fn is_armored(text: &str) -> bool {
    armor::is_armored(text)
}

/// The binary key inside an ASCII-armored public key block (`gpg --armor
/// --export`), its checksum checked: what Vault's CLI sends, base64-encoded,
/// for an armored key file.
pub fn dearmor(text: &str) -> Result<Vec<u8>, CryptoError> {
    armor::decode(text)
}

/// Standard base64 as Go decodes it for Vault: line breaks are ignored
/// (other whitespace is too, here); errors name the offending byte.
fn decode_base64(text: &str) -> Result<Vec<u8>, CryptoError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(CryptoError::PgpKey("the PGP key is empty".into()));
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| {
            let at = match e {
                base64::DecodeError::InvalidByte(at, _)
                | base64::DecodeError::InvalidLastSymbol(at, _) => at,
                base64::DecodeError::InvalidLength(len) => len,
                base64::DecodeError::InvalidPadding => compact.len(),
            };
            CryptoError::PgpKeyEncoding(format!("illegal base64 data at input byte {at}"))
        })
}
