//! The crate's typed errors and their mapping onto Coffer's error kinds.

use coffer_storage::StorageError;

/// Why a quota request failed. Messages are Vault's, word for word, where
/// Vault has one; they never contain secret values (quota names, paths and
/// numbers are configuration, not secrets).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuotaError {
    /// `rate` is missing, zero, negative or not finite.
    #[error("'rate' is invalid")]
    InvalidRate,
    /// `interval` is negative.
    #[error("'interval' is invalid")]
    InvalidInterval,
    /// `block_interval` is negative.
    #[error("'block' is invalid")]
    InvalidBlock,
    /// `path` names no mount, or is not a well-formed path.
    #[error("invalid mount path {0:?}")]
    InvalidMountPath(String),
    /// Another quota already covers the same path.
    #[error("quota rule with similar properties exists under the name {0:?}")]
    SimilarQuotaExists(String),
    /// `role` was given together with a path suffix.
    #[error(
        "Quotas cannot contain both a path suffix and a role. If a role is provided, path must be a valid auth mount with a concept of roles"
    )]
    RoleWithPathSuffix,
    /// `role` was given for a path that is not an auth mount.
    #[error(
        "Mount path {0:?} is not a valid auth method and therefore unsuitable for use with role-based quotas"
    )]
    RoleNotAuthMount(String),
    /// `role` was given; no auth method here resolves roles for quotas yet.
    #[error("Mount path {0:?} does not support use with role-based quotas")]
    RoleUnsupported(String),
    /// `inheritable=true` on a mount or path quota.
    #[error("only namespace quotas can be configured as inheritable")]
    InheritableNotNamespace,
    /// `inheritable=false` on a global quota.
    #[error("all global quotas must be inheritable")]
    GlobalNotInheritable,
    /// The built-in login quota was given a path.
    #[error(
        "quota {0:?} is the default login quota and applies to every login path; its path must be empty"
    )]
    DefaultLoginPath(String),
    /// A field had a value of the wrong type (Vault's framework wording).
    #[error("error converting input {value} for field {field:?}: {reason}")]
    InvalidField {
        /// The field name.
        field: &'static str,
        /// The offending input, shortened.
        value: String,
        /// Why it did not convert.
        reason: String,
    },
    /// The path is not one of the quota endpoints.
    #[error("unsupported path")]
    UnsupportedPath,
    /// A stored record did not decode.
    #[error("stored {0} could not be decoded")]
    Corrupt(String),
    /// A record could not be encoded for storage.
    #[error("could not encode {0} for storage")]
    Encode(&'static str),
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

coffer_types::error_kinds! {
    QuotaError {
        InvalidRate
        | InvalidInterval
        | InvalidBlock
        | InvalidMountPath(_)
        | SimilarQuotaExists(_)
        | RoleWithPathSuffix
        | RoleNotAuthMount(_)
        | RoleUnsupported(_)
        | InheritableNotNamespace
        | GlobalNotInheritable
        | DefaultLoginPath(_)
        | InvalidField { .. } => InvalidRequest,
        UnsupportedPath => NotFound,
        Corrupt(_) | Encode(_) => Internal,
        Storage(e) => e.kind(),
    }
}

/// Shortens client input echoed in an error message.
pub(crate) fn shorten(input: &str) -> String {
    const MAX: usize = 64;
    if input.chars().count() <= MAX {
        input.to_owned()
    } else {
        let mut s: String = input.chars().take(MAX).collect();
        s.push_str("...");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn kinds_map_to_vault_status_codes() {
        assert_eq!(Error::from(QuotaError::InvalidRate).status(), 400);
        assert_eq!(Error::from(QuotaError::UnsupportedPath).status(), 404);
        assert_eq!(Error::from(QuotaError::Encode("quota")).status(), 500);
        let storage = QuotaError::Storage(StorageError::Backend("disk".into()));
        assert_eq!(Error::from(storage).status(), 500);
    }

    #[test]
    fn messages_are_vaults() {
        assert_eq!(
            Error::from(QuotaError::InvalidRate).messages(),
            ["'rate' is invalid"]
        );
        assert_eq!(
            QuotaError::InvalidMountPath("nope/".into()).to_string(),
            "invalid mount path \"nope/\""
        );
        assert_eq!(
            QuotaError::SimilarQuotaExists("q1".into()).to_string(),
            "quota rule with similar properties exists under the name \"q1\""
        );
    }

    #[test]
    fn long_input_is_shortened() {
        let long = "x".repeat(500);
        assert_eq!(shorten(&long).len(), 67);
        assert_eq!(shorten("abc"), "abc");
    }
}
