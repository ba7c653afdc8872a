//! The identity store's typed errors and their mapping onto Coffer's error
//! kinds. Messages are Vault's wherever Vault has one.

use coffer_storage::StorageError;

/// Why an identity operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The client sent something Vault rejects with a 400; the message is
    /// Vault's.
    #[error("{0}")]
    Invalid(String),
    /// The entity is disabled: tokens tied to it cannot be used.
    #[error("permission denied")]
    EntityDisabled,
    /// A stored record did not decode (its content is not echoed).
    #[error("stored identity {0} could not be decoded")]
    Corrupt(&'static str),
    /// A record could not be encoded for storage.
    #[error("could not encode identity {0} for storage")]
    Encode(&'static str),
    /// A random id could not be generated.
    #[error("failed to generate {0}")]
    Random(&'static str),
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl IdentityError {
    /// A 400 with Vault's message.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        IdentityError::Invalid(message.into())
    }
}

coffer_types::error_kinds! {
    IdentityError {
        Invalid(_) => InvalidRequest,
        EntityDisabled => PermissionDenied,
        Corrupt(_) | Encode(_) | Random(_) => Internal,
        Storage(e) => e.kind(),
    }
}

/// Result with [`IdentityError`].
pub type Result<T, E = IdentityError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn kinds_map_to_vault_status_codes() {
        let e = Error::from(IdentityError::invalid("entity name is already in use"));
        assert_eq!(e.status(), 400);
        assert_eq!(e.messages(), ["entity name is already in use"]);
        assert_eq!(Error::from(IdentityError::EntityDisabled).status(), 403);
        assert_eq!(Error::from(IdentityError::Corrupt("entity")).status(), 500);
        let sealed = IdentityError::Storage(StorageError::Sealed);
        assert_eq!(Error::from(sealed).status(), 503);
    }
}
