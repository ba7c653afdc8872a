//! The method's typed errors and their mapping onto Coffer's error kinds.

use coffer_crypto::CryptoError;
use coffer_storage::StorageError;

/// Why a userpass request failed. Messages are Vault's and never contain a
/// password or a password hash.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserpassError {
    /// A create, a password update or a login without a (non-empty) password.
    #[error("missing password")]
    MissingPassword,
    /// The path's username is not a valid name (Vault's route does not match).
    #[error("unsupported path")]
    InvalidUsername,
    /// A password or policy update for a user that does not exist.
    #[error("username does not exist")]
    UserNotFound,
    /// Unknown user or wrong password (indistinguishable on purpose).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The login came from outside the user's `token_bound_cidrs`, or from an
    /// unknown address while the user is bound.
    #[error("permission denied")]
    AddressNotAllowed,
    /// A token is being renewed but its user has been deleted.
    #[error("user no longer exists")]
    UserGone,
    /// A token is being renewed but its user's policies changed since login.
    #[error("policies have changed, not renewing")]
    PoliciesChanged,
    /// A token is being renewed but its grant carries no username.
    #[error("missing username")]
    MissingUsername,
    /// A stored user entry did not decode (its content is not echoed).
    #[error("stored user entry could not be decoded")]
    Corrupt,
    /// A user entry could not be encoded for storage.
    #[error("could not encode user entry for storage")]
    Encode,
    /// The background task computing a password hash failed.
    #[error("password hashing task failed")]
    HashTask,
    /// Password hashing failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

coffer_types::error_kinds! {
    UserpassError {
        MissingPassword
        | UserNotFound
        | InvalidCredentials
        | UserGone
        | PoliciesChanged
        | MissingUsername => InvalidRequest,
        InvalidUsername => NotFound,
        AddressNotAllowed => PermissionDenied,
        Corrupt | Encode | HashTask => Internal,
        Crypto(e) => e.kind(),
        Storage(e) => e.kind(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn kinds_map_to_vault_status_codes() {
        let status = |e: UserpassError| Error::from(e).status();
        assert_eq!(status(UserpassError::InvalidCredentials), 400);
        assert_eq!(status(UserpassError::MissingPassword), 400);
        assert_eq!(status(UserpassError::AddressNotAllowed), 403);
        assert_eq!(status(UserpassError::InvalidUsername), 404);
        assert_eq!(status(UserpassError::Corrupt), 500);
        assert_eq!(
            status(UserpassError::Crypto(CryptoError::PasswordHash)),
            500
        );
        assert_eq!(
            Error::from(UserpassError::InvalidCredentials).messages(),
            ["invalid username or password"]
        );
        assert_eq!(
            Error::from(UserpassError::AddressNotAllowed).messages(),
            ["permission denied"]
        );
    }
}
