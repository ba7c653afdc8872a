//! The token store's error type and its mapping onto Vault's status codes.

use coffer_crypto::CryptoError;
use coffer_storage::StorageError;
use coffer_types::{Error, ErrorKind};

/// Why a token-store operation failed. Messages never contain a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Reading or writing the store's storage view failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Generating randomness failed.
    #[error("token store: {0}")]
    Crypto(#[from] CryptoError),
    /// A stored entry could not be decoded or encoded.
    #[error("corrupt token store entry {key}: {reason}")]
    Corrupt {
        /// The storage key of the entry (a salted hash, never a token).
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// The request is invalid; the message is Vault's (HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// The parent named for a new token does not exist or is no longer valid.
    #[error("parent token lookup failed: no parent found")]
    ParentNotFound,
    /// The token has no lease that can be renewed.
    #[error("lease is not renewable")]
    NotRenewable,
    /// The token has reached its maximum lifetime.
    #[error("past the max TTL, cannot renew")]
    PastMaxTtl,
    /// The revocation hook (cubbyhole, leases) failed; the token stays
    /// marked for revocation and is retried by a later lookup or tidy.
    #[error("revoking token: {0}")]
    Hook(coffer_types::Error),
}

impl TokenError {
    /// The error kind, which decides the HTTP status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TokenError::Storage(e) => e.kind(),
            TokenError::Crypto(e) => e.kind(),
            TokenError::Corrupt { .. } => ErrorKind::Internal,
            TokenError::Hook(e) => e.kind(),
            TokenError::Invalid(_)
            | TokenError::ParentNotFound
            | TokenError::NotRenewable
            | TokenError::PastMaxTtl => ErrorKind::InvalidRequest,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        TokenError::Invalid(message.into())
    }

    pub(crate) fn corrupt(key: &str, reason: impl std::fmt::Display) -> Self {
        TokenError::Corrupt {
            key: key.to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl From<TokenError> for Error {
    fn from(err: TokenError) -> Self {
        Error::new(err.kind(), err.to_string())
    }
}

/// Result with [`TokenError`].
pub type Result<T, E = TokenError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_vault_statuses() {
        assert_eq!(Error::from(TokenError::NotRenewable).status(), 400);
        assert_eq!(Error::from(TokenError::invalid("x")).status(), 400);
        assert_eq!(
            Error::from(TokenError::corrupt("id/ab", "bad json")).status(),
            500
        );
        assert_eq!(
            Error::from(TokenError::Storage(StorageError::Sealed)).status(),
            503
        );
        assert_eq!(
            Error::from(TokenError::ParentNotFound).messages(),
            ["parent token lookup failed: no parent found"]
        );
    }
}
