//! The expiration manager's typed errors and their mapping onto Coffer's
//! error kinds. Messages are Vault's, word for word, where Vault has one.

use coffer_storage::StorageError;
use coffer_types::Error;

/// Why a lease operation failed. Messages never contain secret values: lease
/// ids and paths are not secret, and a backend's error text is its own
/// responsibility (backends never put secrets in errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExpirationError {
    /// A request named no lease (`lease_id` empty or absent).
    #[error("lease_id must be specified")]
    MissingLeaseId,
    /// `sys/leases/lookup` of a lease that does not exist.
    #[error("invalid lease")]
    InvalidLease,
    /// Renewal of a lease that does not exist.
    #[error("lease not found")]
    LeaseNotFound,
    /// Renewal of a lease whose revocation failed for good.
    #[error("lease is expired and has failed previous revocation attempts")]
    Irrevocable,
    /// Renewal of a lease that never expires or was issued non-renewable.
    #[error("lease is not renewable")]
    NotRenewable,
    /// Renewal of a lease past its expiry (its revocation is pending).
    #[error("lease expired")]
    Expired,
    /// Renewal of a token's lease through `sys/leases/renew`.
    #[error("tokens cannot be renewed through this endpoint")]
    TokenLease,
    /// Renewal of a lease that has reached its max TTL.
    #[error("past the max TTL, cannot renew")]
    PastMaxTtl,
    /// The backend refused or failed to renew.
    #[error("failed to renew entry: {0}")]
    RenewFailed(String),
    /// The backend failed to revoke; the lease is kept and retried.
    #[error("failed to revoke entry: {0}")]
    RevokeFailed(String),
    /// `register` was given a path that cannot be part of a lease id.
    #[error("invalid lease path {0:?}")]
    InvalidPath(String),
    /// A request field was malformed (`limit`, `type`, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// No lease endpoint at this path.
    #[error("unsupported path")]
    UnsupportedPath,
    /// A stored lease record did not decode (its content is not echoed: it
    /// holds the backend's internal data).
    #[error("stored lease {0:?} could not be decoded")]
    Corrupt(String),
    /// A lease record could not be encoded for storage.
    #[error("could not encode lease {0:?} for storage")]
    Encode(String),
    /// The OS random generator failed while making a lease id.
    #[error("could not generate a lease id")]
    Random,
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

coffer_types::error_kinds! {
    /// The error kind, which decides the HTTP status. Like Vault's
    /// `sys/leases` handlers, failures of the backend behind a lease are 400s.
    ExpirationError {
        MissingLeaseId
        | InvalidLease
        | LeaseNotFound
        | Irrevocable
        | NotRenewable
        | Expired
        | TokenLease
        | PastMaxTtl
        | RenewFailed(_)
        | RevokeFailed(_)
        | InvalidInput(_) => InvalidRequest,
        UnsupportedPath => NotFound,
        InvalidPath(_) | Corrupt(_) | Encode(_) | Random => Internal,
        Storage(e) => e.kind(),
    }
}

/// The messages of a backend's error as one line (for `last_error` and
/// [`ExpirationError::RevokeFailed`]).
pub(crate) fn describe(err: &Error) -> String {
    let joined = err.messages().join("; ");
    if joined.is_empty() {
        format!("backend error (status {})", err.status())
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_vault_status_codes() {
        assert_eq!(Error::from(ExpirationError::MissingLeaseId).status(), 400);
        assert_eq!(Error::from(ExpirationError::InvalidLease).status(), 400);
        assert_eq!(
            Error::from(ExpirationError::RevokeFailed("db down".into())).status(),
            400
        );
        assert_eq!(Error::from(ExpirationError::UnsupportedPath).status(), 404);
        assert_eq!(Error::from(ExpirationError::Random).status(), 500);
        assert_eq!(
            Error::from(ExpirationError::Storage(StorageError::Sealed)).status(),
            503
        );
        assert_eq!(
            Error::from(ExpirationError::LeaseNotFound).messages(),
            ["lease not found"]
        );
    }

    #[test]
    fn describe_joins_messages_or_names_the_status() {
        assert_eq!(describe(&Error::internal("a")), "a");
        assert_eq!(describe(&Error::not_found()), "backend error (status 404)");
    }
}
