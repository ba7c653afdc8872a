//! The token store's error type and its mapping onto Vault's status codes.

use coffer_crypto::CryptoError;
use coffer_storage::StorageError;

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
    /// The operation is impossible with a batch token (renewal, individual
    /// revocation, creating children); the message is Vault's (HTTP 400).
    #[error("{0}")]
    Batch(&'static str),
    /// The auth method refused to renew a login token (user or role gone,
    /// ...); its error reaches the client unchanged.
    #[error("{0}")]
    LoginRefused(coffer_types::Error),
    /// The auth method's policies for a login token changed since the login
    /// (Vault answers 500 with this message).
    #[error("failed to renew entry: policies have changed, not renewing")]
    PoliciesChanged,
    /// A login token is being renewed but no [`LoginRenewer`](crate::LoginRenewer)
    /// is installed.
    #[error("cannot renew a login token: no auth method renewal hook is installed")]
    NoLoginRenewer,
}

coffer_types::error_kinds! {
    TokenError {
        Storage(e) => e.kind(),
        Crypto(e) => e.kind(),
        Corrupt { .. } => Internal,
        Hook(e) | LoginRefused(e) => e.kind(),
        PoliciesChanged | NoLoginRenewer => Internal,
        Batch(_) | Invalid(_) | ParentNotFound | NotRenewable | PastMaxTtl => InvalidRequest,
    }
    // The auth method's refusal reaches the client as it is.
    unchanged: LoginRefused
}

impl TokenError {
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

/// Result with [`TokenError`].
pub type Result<T, E = TokenError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::{Error, ErrorKind};

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
        assert_eq!(
            Error::from(TokenError::Batch("batch tokens cannot be renewed")).status(),
            400
        );
        let refused = Error::new(ErrorKind::PermissionDenied, "user is gone");
        assert_eq!(
            Error::from(TokenError::LoginRefused(refused.clone())),
            refused,
            "the auth method's error passes through unchanged"
        );
        let changed = Error::from(TokenError::PoliciesChanged);
        assert_eq!(changed.status(), 500);
        assert_eq!(
            changed.messages(),
            ["failed to renew entry: policies have changed, not renewing"]
        );
    }
}
