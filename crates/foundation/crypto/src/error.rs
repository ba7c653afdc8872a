//! Crypto errors. Messages never contain key material or plaintext.

/// Why a cryptographic operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The operating system's random number generator failed.
    #[error("random number generator failure")]
    Random,
    /// A ciphertext failed to authenticate: tampered with, truncated, wrong
    /// key, or bound to different associated data.
    #[error("message authentication failed")]
    Decrypt,
    /// Encryption failed inside the AEAD implementation.
    #[error("encryption failed")]
    Encrypt,
    /// The ciphertext names a key term the keyring does not hold.
    #[error("unknown key term {0}")]
    UnknownTerm(u32),
    /// The ciphertext's version byte is not one this build understands.
    #[error("unsupported ciphertext version {0}")]
    UnsupportedVersion(u8),
    /// The input is shorter than the smallest valid encoding.
    #[error("ciphertext is truncated")]
    Truncated,
    /// A serialised keyring could not be parsed.
    #[error("invalid keyring encoding: {0}")]
    InvalidKeyring(&'static str),
    /// The keyring has used up its key terms (`u32::MAX`).
    #[error("keyring term counter exhausted")]
    TermsExhausted,
    /// Invalid parameters for a key derivation or secret split.
    #[error("{0}")]
    InvalidParameters(String),
    /// Shares could not be recombined (too few, mismatched, duplicate).
    #[error("{0}")]
    InvalidShares(String),
    /// Password hashing failed inside the Argon2 implementation.
    #[error("password hashing failed")]
    PasswordHash,
    /// An OpenPGP public key is not valid base64 (Go's wording, as Vault's).
    #[error("{0}")]
    PgpKeyEncoding(String),
    /// An OpenPGP public key cannot be used: malformed, not a public key,
    /// without a valid encryption key, or of an unsupported algorithm.
    #[error("{0}")]
    PgpKey(String),
}

coffer_types::error_kinds! {
    /// The error kind, which decides the HTTP status: bad split parameters
    /// and unusable key shares are the client's fault (400); everything else
    /// is a server-side failure (500).
    CryptoError {
        InvalidParameters(_) | InvalidShares(_) | PgpKeyEncoding(_) | PgpKey(_) => InvalidRequest,
        Random
        | Decrypt
        | Encrypt
        | UnknownTerm(_)
        | UnsupportedVersion(_)
        | Truncated
        | InvalidKeyring(_)
        | TermsExhausted
        | PasswordHash => Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_statuses() {
        assert_eq!(CryptoError::Decrypt.kind().status(), 500);
        assert_eq!(CryptoError::InvalidShares("x".into()).kind().status(), 400);
        let e: coffer_types::Error = CryptoError::UnknownTerm(7).into();
        assert_eq!(e.status(), 500);
        assert_eq!(e.messages(), ["unknown key term 7"]);
    }
}
