//! The audit subsystem's errors and their mapping onto Coffer's error kinds.

use coffer_storage::StorageError;

/// Why an audit operation failed. Messages never contain secret values: record
/// contents are never quoted, only paths, device types and I/O errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// At least one device is enabled and none recorded the request. Vault's
    /// broker message; the core must refuse the request.
    #[error("no audit backend succeeded in logging the {0}")]
    NotLogged(&'static str),
    /// One device failed to write a record (I/O error, deadline, full queue).
    #[error("audit device {path:?} failed: {reason}")]
    Device {
        /// The device's path (`file/`).
        path: String,
        /// What failed.
        reason: String,
    },
    /// An enable request was invalid (bad option, path in use, unknown type).
    #[error("{0}")]
    Invalid(String),
    /// The device could not be set up (unwritable file, unreachable socket,
    /// no syslog socket).
    #[error("{0}")]
    Setup(String),
    /// No device is enabled at the path.
    #[error("unknown audit backend {0}")]
    UnknownDevice(String),
    /// The operation is forbidden by the server configuration (enabling over
    /// the API when switched off, disabling a device declared in the config).
    #[error("{0}")]
    Forbidden(String),
    /// The barrier storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Stored audit state could not be decoded or created.
    #[error("audit state: {0}")]
    Internal(String),
}

coffer_types::error_kinds! {
    AuditError {
        Invalid(_) | Setup(_) | UnknownDevice(_) | Forbidden(_) => InvalidRequest,
        Storage(e) => e.kind(),
        NotLogged(_) | Device { .. } | Internal(_) => Internal,
    }
}

impl AuditError {
    pub(crate) fn device(path: &str, reason: impl Into<String>) -> Self {
        AuditError::Device {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn kinds_and_messages() {
        let e = AuditError::NotLogged("request");
        assert_eq!(
            e.to_string(),
            "no audit backend succeeded in logging the request"
        );
        assert_eq!(Error::from(e).status(), 500);
        assert_eq!(
            Error::from(AuditError::UnknownDevice("x/".into())).status(),
            400
        );
        assert_eq!(Error::from(AuditError::Invalid("bad".into())).status(), 400);
        assert_eq!(
            Error::from(AuditError::Storage(StorageError::Sealed)).status(),
            503
        );
    }
}
