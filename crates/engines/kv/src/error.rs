//! The engine's typed errors and their mapping onto Coffer's error kinds.

use coffer_storage::StorageError;

/// Why a KV or cubbyhole request failed. Messages are Vault's, word for word,
/// and never contain secret values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// A write named no path.
    #[error("missing path")]
    MissingPath,
    /// A KV v1 or cubbyhole write had an empty body.
    #[error("missing data fields")]
    MissingDataFields,
    /// A KV v2 write or patch had no `data` object.
    #[error("no data provided")]
    NoDataProvided,
    /// `options.cas` did not equal the current version.
    #[error("check-and-set parameter did not match the current version")]
    CasMismatch,
    /// The mount or the key requires `options.cas` and none was given.
    #[error("check-and-set parameter required for this call")]
    CasRequired,
    /// `options.cas` was not an integer.
    #[error("error parsing check-and-set parameter")]
    CasParse,
    /// `delete` or `undelete` was called without versions.
    #[error("No version number provided")]
    NoVersionNumber,
    /// `destroy` was called without versions (Vault spells this one in lower case).
    #[error("no version number provided")]
    NoVersionNumberToDestroy,
    /// A cubbyhole request arrived without a token scope.
    #[error("client token empty")]
    ClientTokenEmpty,
    /// The core passed a token scope that is not a single path segment.
    #[error("invalid token scope")]
    InvalidScope,
    /// A field had a value of the wrong type.
    #[error("error converting input for field {field:?}: {reason}")]
    InvalidField {
        /// The field name.
        field: &'static str,
        /// What was expected.
        reason: &'static str,
    },
    /// `custom_metadata` failed validation; the text lists every problem.
    #[error("{0}")]
    CustomMetadata(String),
    /// The mount's `version` option is neither `1` nor `2`.
    #[error("invalid kv version {0:?}: must be \"1\" or \"2\"")]
    InvalidVersion(String),
    /// A stored record did not decode (its content is not echoed: it may be secret).
    #[error("stored {0} could not be decoded")]
    Corrupt(&'static str),
    /// A record could not be encoded for storage.
    #[error("could not encode {0} for storage")]
    Encode(&'static str),
    /// Version metadata exists but its data record is missing.
    #[error("could not find version data")]
    MissingVersionData,
    /// The storage layer failed, or a path was not a valid storage key.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

coffer_types::error_kinds! {
    KvError {
        CasMismatch => CasMismatch,
        MissingPath
        | MissingDataFields
        | NoDataProvided
        | CasRequired
        | CasParse
        | NoVersionNumber
        | NoVersionNumberToDestroy
        | ClientTokenEmpty
        | InvalidField { .. }
        | CustomMetadata(_)
        | InvalidVersion(_) => InvalidRequest,
        InvalidScope | Corrupt(_) | Encode(_) | MissingVersionData => Internal,
        Storage(e) => e.kind(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn kinds_map_to_vault_status_codes() {
        assert_eq!(Error::from(KvError::CasMismatch).status(), 400);
        assert_eq!(Error::from(KvError::CasRequired).status(), 400);
        assert_eq!(Error::from(KvError::MissingVersionData).status(), 500);
        let bad_key = KvError::Storage(StorageError::InvalidKey("key has an empty segment".into()));
        assert_eq!(Error::from(bad_key).status(), 400);
        assert_eq!(
            Error::from(KvError::InvalidField {
                field: "data",
                reason: "an object"
            })
            .messages(),
            ["error converting input for field \"data\": an object"]
        );
    }
}
